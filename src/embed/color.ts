import { SRGB_TO_LINEAR } from '../imaging/colour.js';
import type { RawImage } from '../types.js';
import type { Embedder } from './embedder.js';

/**
 * The `color` embedder: colour statistics of a still in HSL and CIELAB. No
 * weights, no network. Letterbox bars (all-black rows at the top and bottom) are
 * left out so a 2.39:1 film and a 16:9 film with the same grade look alike.
 *
 * Layout of the 218-d vector:
 * | offset | length | what |
 * |---|---|---|
 * | 0   | 192 | HSL joint histogram: 12 hue (30°) × 4 saturation × 4 lightness bins, share of pixels (sums to 1), soft-binned (each pixel's weight split linearly between the nearest bin centres). Weight in the lowest saturation bin goes to hue bin 0 (a grey's hue is noise). Index = (h·4 + s)·4 + l |
 * | 192 | 9   | CIELAB mean L, a, b; standard deviation L, a, b (all ÷ 100); skewness L, a, b (÷ 5, clipped to ±1) |
 * | 201 | 5   | L percentiles 5, 25, 50, 75, 95 (÷ 100) |
 * | 206 | 3   | chroma mean, chroma standard deviation, Hasler–Süsstrunk colourfulness (all ÷ 100) |
 * | 215 | 9   | CIELAB mean L, a, b of the top, middle and bottom thirds (÷ 100) |
 * (total 192 + 9 + 5 + 3 + 9 = 218)
 */
export const COLOR_DIM = 218;

const H_BINS = 12;
const S_BINS = 4;
const L_BINS = 4;
const HIST = H_BINS * S_BINS * L_BINS;

const EPS = 216 / 24389;
const KAPPA = 24389 / 27;

// CIELAB's f(t) = ∛t above EPS. Math.cbrt three times a pixel was most of this
// embedder's time, so the cube root comes from a 16,385-entry table with linear
// interpolation: relative error under 2e-6 near t = EPS and far less above (Lab L off by
// < 1e-4 units), below what the float32 features keep. t stays below 1.09 for 8-bit sRGB.
const CBRT_STEPS = 16384;
const CBRT_MAX = 1.1;
const CBRT_SCALE = CBRT_STEPS / CBRT_MAX;
const CBRT_TABLE = (() => {
  const t = new Float64Array(CBRT_STEPS + 2);
  for (let i = 0; i < t.length; i++) t[i] = Math.cbrt(i / CBRT_SCALE);
  return t;
})();

/** CIELAB's f(t) for t ≥ 0. */
export function labF(t: number): number {
  if (t <= EPS) return (KAPPA * t + 16) / 116;
  if (t >= CBRT_MAX) return Math.cbrt(t);
  const x = t * CBRT_SCALE;
  const i = x | 0;
  const y0 = CBRT_TABLE[i];
  return y0 + (x - i) * (CBRT_TABLE[i + 1] - y0);
}
const f = labF;

/** Rows [top, bottom) that are not letterbox bars. */
export function contentRows(img: RawImage): [number, number] {
  const { data, width, height, channels } = img;
  const rowIsBlack = (y: number): boolean => {
    const start = y * width * channels;
    const end = start + width * channels;
    for (let i = start; i < end; i++) if (data[i] > 2) return false;
    return true;
  };
  let top = 0;
  while (top < height && rowIsBlack(top)) top++;
  if (top === height) return [0, height]; // an all-black still: keep it all
  let bottom = height;
  while (bottom > top && rowIsBlack(bottom - 1)) bottom--;
  return [top, bottom];
}

/** Computes the colour statistics of one still into out[o .. o + COLOR_DIM). */
export function colorFeatures(img: RawImage, out: Float32Array, o = 0): void {
  const { data, width, channels } = img;
  if (channels < 3) throw new RangeError(`color embedder needs 3 or 4 channels but got ${channels}`);
  const [top, bottom] = contentRows(img);
  const rows = bottom - top;
  const n = rows * width;
  out.fill(0, o, o + COLOR_DIM);
  const hist = new Float64Array(HIST);
  const lHist = new Float64Array(101);
  let sL = 0,
    sA = 0,
    sB = 0,
    sLL = 0,
    sAA = 0,
    sBB = 0,
    sL3 = 0,
    sA3 = 0,
    sB3 = 0;
  let sC = 0,
    sCC = 0;
  let sRG = 0,
    sRG2 = 0,
    sYB = 0,
    sYB2 = 0;
  const third = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const thirdN = [0, 0, 0];
  for (let y = top; y < bottom; y++) {
    const region = Math.min(2, Math.floor(((y - top) * 3) / rows));
    let p = y * width * channels;
    for (let x = 0; x < width; x++, p += channels) {
      const r = data[p];
      const g = data[p + 1];
      const b = data[p + 2];
      // HSL
      const max = r > g ? (r > b ? r : b) : g > b ? g : b;
      const min = r < g ? (r < b ? r : b) : g < b ? g : b;
      const d = (max - min) / 255;
      const l = (max + min) / 510;
      let s = 0;
      let h = 0;
      if (d > 1e-6) {
        s = d / (1 - Math.abs(2 * l - 1));
        if (s > 1) s = 1;
        const dd = max - min;
        // (float % is a libm call in V8: the wrap is a comparison instead)
        if (max === r) {
          h = (g - b) / dd;
          if (h < 0) h += 6;
        } else if (max === g) h = (b - r) / dd + 2;
        else h = (r - g) / dd + 4;
      }
      // Soft (linear) binning along hue, saturation and lightness, so a small change of
      // grade moves weight between neighbouring bins instead of flipping a whole pixel.
      const hc = h * 2; // 12 hue bins of 30°, centres at 15°, 45°, ...
      const h0f = Math.floor(hc - 0.5);
      const hw1 = hc - 0.5 - h0f;
      const h0 = h0f < 0 ? h0f + H_BINS : h0f;
      const h1 = h0 === H_BINS - 1 ? 0 : h0 + 1;
      let sc = s * S_BINS - 0.5;
      if (sc < 0) sc = 0;
      else if (sc > S_BINS - 1) sc = S_BINS - 1;
      const s0 = Math.min(S_BINS - 2, Math.floor(sc));
      const sw1 = sc - s0;
      let lc = l * L_BINS - 0.5;
      if (lc < 0) lc = 0;
      else if (lc > L_BINS - 1) lc = L_BINS - 1;
      const l0 = Math.min(L_BINS - 2, Math.floor(lc));
      const lw1 = lc - l0;
      for (let si = 0; si < 2; si++) {
        const ws = si === 0 ? 1 - sw1 : sw1;
        if (ws === 0) continue;
        const sb = s0 + si;
        for (let li = 0; li < 2; li++) {
          const w = ws * (li === 0 ? 1 - lw1 : lw1);
          if (w === 0) continue;
          const lb = l0 + li;
          if (sb === 0) {
            // Near-grey: hue is noise, so it all goes to hue bin 0.
            hist[lb] += w;
          } else {
            hist[(h0 * S_BINS + sb) * L_BINS + lb] += w * (1 - hw1);
            hist[(h1 * S_BINS + sb) * L_BINS + lb] += w * hw1;
          }
        }
      }
      // Lab
      const R = SRGB_TO_LINEAR[r];
      const G = SRGB_TO_LINEAR[g];
      const B = SRGB_TO_LINEAR[b];
      const fx = f((0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047);
      const fy = f(0.2126729 * R + 0.7151522 * G + 0.072175 * B);
      const fz = f((0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883);
      const L = 116 * fy - 16;
      const A = 500 * (fx - fy);
      const Bb = 200 * (fy - fz);
      sL += L;
      sA += A;
      sB += Bb;
      sLL += L * L;
      sAA += A * A;
      sBB += Bb * Bb;
      sL3 += L * L * L;
      sA3 += A * A * A;
      sB3 += Bb * Bb * Bb;
      const C = Math.sqrt(A * A + Bb * Bb);
      sC += C;
      sCC += C * C;
      lHist[L <= 0 ? 0 : L >= 100 ? 100 : Math.round(L)]++;
      const t = region * 3;
      third[t] += L;
      third[t + 1] += A;
      third[t + 2] += Bb;
      thirdN[region]++;
      // opponent colour for colourfulness
      const rg = r - g;
      const yb = 0.5 * (r + g) - b;
      sRG += rg;
      sRG2 += rg * rg;
      sYB += yb;
      sYB2 += yb * yb;
    }
  }
  for (let i = 0; i < HIST; i++) out[o + i] = hist[i] / n;
  const mean = [sL / n, sA / n, sB / n];
  const sq = [sLL / n, sAA / n, sBB / n];
  const cube = [sL3 / n, sA3 / n, sB3 / n];
  let k = o + HIST;
  for (let c = 0; c < 3; c++) out[k++] = mean[c] / 100;
  const sd = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    sd[c] = Math.sqrt(Math.max(0, sq[c] - mean[c] * mean[c]));
    out[k++] = sd[c] / 100;
  }
  for (let c = 0; c < 3; c++) {
    // third central moment from raw moments
    const m3 = cube[c] - 3 * mean[c] * sq[c] + 2 * mean[c] ** 3;
    // Below half a Lab unit of spread the shape of the distribution is rounding noise.
    const skew = sd[c] > 0.5 ? m3 / sd[c] ** 3 : 0;
    out[k++] = Math.max(-1, Math.min(1, skew / 5));
  }
  for (const q of [0.05, 0.25, 0.5, 0.75, 0.95]) {
    let acc = 0;
    let v = 0;
    for (; v < 101; v++) {
      acc += lHist[v];
      if (acc >= q * n) break;
    }
    out[k++] = Math.min(v, 100) / 100;
  }
  const cMean = sC / n;
  out[k++] = cMean / 100;
  out[k++] = Math.sqrt(Math.max(0, sCC / n - cMean * cMean)) / 100;
  const mRG = sRG / n;
  const mYB = sYB / n;
  const sdRG = Math.sqrt(Math.max(0, sRG2 / n - mRG * mRG));
  const sdYB = Math.sqrt(Math.max(0, sYB2 / n - mYB * mYB));
  out[k++] = (Math.sqrt(sdRG * sdRG + sdYB * sdYB) + 0.3 * Math.sqrt(mRG * mRG + mYB * mYB)) / 100;
  for (let r = 0; r < 3; r++) {
    const m = Math.max(1, thirdN[r]);
    for (let c = 0; c < 3; c++) out[k++] = third[r * 3 + c] / m / 100;
  }
}

export function createColorEmbedder(): Embedder {
  return {
    id: 'color',
    dim: COLOR_DIM,
    preprocess: 'none',
    details: { layout: 'hsl-hist-12x4x4+lab-moments+l-percentiles+chroma+lab-thirds' },
    async embed(stills, out) {
      stills.forEach((img, i) => colorFeatures(img, out, i * COLOR_DIM));
    },
    async close() {},
  };
}
