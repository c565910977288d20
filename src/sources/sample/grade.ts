/**
 * Grading: a scene rendered in float RGB becomes 8-bit colour with a movie's look, in
 * this order: exposure → highlight roll-off → saturation (or black and white) → split
 * toning → white balance → contrast curve → lift/gamma/gain → vignette → grain.
 */
import { Random } from '../../numeric/random.js';
import { clampTo, type Look } from './looks.js';

const LUT_SIZE = 4096;
// 4096 entries (16 kB) stay in the L1 cache; the pixel-to-entry choice is random, so no pattern shows.
const GAUSS_SIZE = 4096;
const GAUSS_MASK = GAUSS_SIZE - 1;
/** Standard normal deviates, looked up per pixel for grain (a Box–Muller per pixel would cost more than the grade). */
let gaussTable: Float32Array | undefined;
function gauss(): Float32Array {
  if (gaussTable) return gaussTable;
  const rng = new Random('filmatlas sample grain');
  gaussTable = new Float32Array(GAUSS_SIZE);
  for (let i = 0; i < gaussTable.length; i++) gaussTable[i] = rng.normal();
  return gaussTable;
}

/** The parts of a grade that depend only on the look (and size): tone curves as tables, the vignette map. */
export interface PreparedLook {
  look: Look;
  lut: Float32Array;
  vignette: Float32Array;
}

export function prepareLook(look: Look, w: number, h: number): PreparedLook {
  const lut = new Float32Array(3 * LUT_SIZE);
  const k = look.contrast;
  const sig = (v: number): number => 1 / (1 + Math.exp(-k * (v - 0.5)));
  const lo = sig(0);
  const hi = sig(1);
  for (let ch = 0; ch < 3; ch++) {
    for (let i = 0; i < LUT_SIZE; i++) {
      const v = clampTo((i / (LUT_SIZE - 1)) * look.balance[ch], 0, 1);
      const curved = k < 1e-3 ? v : (sig(v) - lo) / (hi - lo);
      lut[ch * LUT_SIZE + i] = look.lift + (look.gain - look.lift) * Math.pow(curved, 1 / look.gamma);
    }
  }
  const vignette = new Float32Array(w * h);
  const vx = 2 / w;
  const vy = 2 / h;
  for (let y = 0; y < h; y++) {
    const dy = (y + 0.5) * vy - 1;
    for (let x = 0; x < w; x++) {
      const dx = (x + 0.5) * vx - 1;
      const r2 = (dx * dx + dy * dy) / 2; // 0 at the centre, 1 in the corners
      vignette[y * w + x] = 1 - look.vignette * r2 * r2 * (3 - 2 * r2);
    }
  }
  return { look, lut, vignette };
}

/** Grades the float scene into 8-bit RGB with the movie's look (after `sceneExposure`), adding grain from `grainSeed`. */
export function grade(
  src: Float32Array,
  g: PreparedLook,
  grainSeed: number,
  sceneExposure: number,
): Uint8Array {
  const { look, lut, vignette } = g;
  const n = vignette.length;
  const out = new Uint8Array(n * 3);
  const G = gauss();
  const exposure = look.exposure * sceneExposure;
  const sat = look.mono ? 0 : look.saturation;
  const [sr, sg, sb] = look.shadows;
  const [hr, hg, hb] = look.highlights;
  const grain = look.grain;
  const chromaGrain = look.mono ? 0 : grain * 0.35;
  const top = LUT_SIZE - 1;
  let s = grainSeed | 1;
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    let r = src[p] * exposure;
    let gg = src[p + 1] * exposure;
    let b = src[p + 2] * exposure;
    // Highlight roll-off: lights above 0.8 approach 1 instead of clipping hard.
    if (r > 0.8) r = 0.8 + (0.2 * (r - 0.8)) / (r - 0.6);
    if (gg > 0.8) gg = 0.8 + (0.2 * (gg - 0.8)) / (gg - 0.6);
    if (b > 0.8) b = 0.8 + (0.2 * (b - 0.8)) / (b - 0.6);
    const y = 0.2126 * r + 0.7152 * gg + 0.0722 * b;
    const ws = (1 - y) * (1 - y);
    const wh = y * y;
    r = y + (r - y) * sat + ws * sr + wh * hr;
    gg = y + (gg - y) * sat + ws * sg + wh * hg;
    b = y + (b - y) * sat + ws * sb + wh * hb;
    const ir = r <= 0 ? 0 : r >= 1 ? top : (r * top + 0.5) | 0;
    const ig = gg <= 0 ? 0 : gg >= 1 ? top : (gg * top + 0.5) | 0;
    const ib = b <= 0 ? 0 : b >= 1 ? top : (b * top + 0.5) | 0;
    const v = vignette[i];
    r = lut[ir] * v;
    gg = lut[LUT_SIZE + ig] * v;
    b = lut[2 * LUT_SIZE + ib] * v;
    // Grain: strongest in the midtones, as on film.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const yl = (r + gg + b) / 3;
    const amp = grain * (0.4 + 2.4 * yl * (1 - yl));
    const ng = G[s & GAUSS_MASK] * amp;
    const nc = G[(s >>> 20) & GAUSS_MASK] * chromaGrain;
    r += ng + nc;
    gg += ng - 0.5 * nc;
    b += ng - 0.5 * nc;
    out[p] = r <= 0 ? 0 : r >= 1 ? 255 : (r * 255 + 0.5) | 0;
    out[p + 1] = gg <= 0 ? 0 : gg >= 1 ? 255 : (gg * 255 + 0.5) | 0;
    out[p + 2] = b <= 0 ? 0 : b >= 1 ? 255 : (b * 255 + 0.5) | 0;
  }
  return out;
}
