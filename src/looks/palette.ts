/**
 * Colour palettes of stills and movies, stored in the atlas, and pictures of them
 * (swatch strips, movie barcodes).
 *
 * A still's palette: its non-letterbox pixels are binned (5 bits per channel, 32,768
 * bins, each bin standing for the mean colour of its pixels), then the bins are
 * clustered by weighted k-means++ (weight = pixel count) in CIELAB (default), HSL or
 * RGB. Each colour carries its share of the pixels; colours are sorted by share,
 * largest first. A movie's palette clusters the colours of its stills' palettes
 * (each still weighing the same, each colour its share), so it never re-reads pixels.
 *
 * Storage: the palette set of each space and k, kept by src/atlas/palettes.ts
 * (`<atlas>/looks/palettes/<space>-k<k>/`). New stills are added on the next run.
 */
import sharp from 'sharp';
import type { Atlas } from '../atlas/atlas.js';
import {
  paletteSetKey,
  readPaletteSet,
  writePaletteSet,
  type NewPaletteSet,
  type PackedPalette,
  type PaletteSet,
} from '../atlas/palettes.js';
import { readStill } from '../atlas/stills.js';
import { movieLabel } from '../catalog/catalog.js';
import { contentRows } from '../embed/color.js';
import { AtlasError, describeError, throwIfAborted } from '../errors.js';
import { labToSrgb, srgbToLab } from '../imaging/colour.js';
import {
  describeLab,
  fromSpace,
  rgbToLab,
  toSpace,
  type PaletteColour,
  type PaletteSpace,
} from '../imaging/palette-colour.js';
import type { RawImage, StageOptions } from '../types.js';
import { kmeans } from './kmeans.js';
import { checkChoice, checkInt } from '../validate.js';

// The stored form of palettes lives in src/atlas/palettes.ts; re-exported for the looks stage's users.
export {
  DEFAULT_PALETTE_K,
  MAX_PALETTE_K,
  readPaletteSet,
  stillPaletteOf,
  type PackedPalette,
  type PaletteManifest,
  type PaletteSet,
} from '../atlas/palettes.js';

export interface PaletteOptions {
  /** Colours per palette. Default 6; 1–16. */
  k?: number;
  /** Clustering space. Default 'lab'. */
  space?: PaletteSpace;
  /** Seed of the k-means++ draws. Default 0. */
  seed?: number;
}

function resolve(options: PaletteOptions): Required<PaletteOptions> {
  return { ...paletteSetKey(options), seed: options.seed ?? 0 };
}

/**
 * Clusters weighted CIELAB colours into a packed palette of k slots (fewer distinct
 * colours leave zero-share slots at the end).
 */
export function clusterColours(
  lab: Float32Array,
  weights: Float64Array | Float32Array,
  options: PaletteOptions = {},
): PackedPalette {
  const { k, space, seed } = resolve(options);
  const m = weights.length;
  const out = new Float32Array(k * 4);
  if (m === 0) return out;
  let points = lab;
  if (space !== 'lab') {
    points = new Float32Array(m * 3);
    for (let i = 0; i < m; i++) {
      const rgb = labToSrgb(lab[i * 3], lab[i * 3 + 1], lab[i * 3 + 2]);
      toSpace(space, rgb[0], rgb[1], rgb[2], points, i * 3);
    }
  }
  const res = kmeans(points, m, 3, { k, weights, seed, restarts: 2, maxIterations: 40 });
  let total = 0;
  for (let c = 0; c < res.k; c++) total += res.weights[c];
  const order = Array.from({ length: res.k }, (_, c) => c).sort((a, b) => res.weights[b] - res.weights[a]);
  order.forEach((c, slot) => {
    const [x, y, z] = [res.centroids[c * 3], res.centroids[c * 3 + 1], res.centroids[c * 3 + 2]];
    const L = space === 'lab' ? [x, y, z] : rgbToLab(...fromSpace(space, x, y, z));
    out.set([L[0], L[1], L[2], total > 0 ? res.weights[c] / total : 0], slot * 4);
  });
  return out;
}

const BINS = 1 << 15;
const binCount = new Int32Array(BINS);
const binSum = new Float64Array(BINS * 3);

/**
 * A still's palette and its mean CIELAB colour, from its pixels (rows `top..bottom`,
 * default: all rows that are not letterbox bars).
 */
export function stillPalette(
  img: RawImage,
  options: PaletteOptions = {},
  rows?: [number, number],
): { palette: PackedPalette; mean: [number, number, number] } {
  const { data, width, channels } = img;
  const [top, bottom] = rows ?? contentRows(img);
  const touched: number[] = [];
  for (let y = top; y < bottom; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * channels;
      const r = data[p];
      const g = channels >= 3 ? data[p + 1] : r;
      const b = channels >= 3 ? data[p + 2] : r;
      const bin = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
      if (binCount[bin]++ === 0) touched.push(bin);
      binSum[bin * 3] += r;
      binSum[bin * 3 + 1] += g;
      binSum[bin * 3 + 2] += b;
    }
  }
  const m = touched.length;
  const lab = new Float32Array(m * 3);
  const weights = new Float64Array(m);
  const mean: [number, number, number] = [0, 0, 0];
  let total = 0;
  for (let i = 0; i < m; i++) {
    const bin = touched[i];
    const c = binCount[bin];
    srgbToLab(
      Math.round(binSum[bin * 3] / c),
      Math.round(binSum[bin * 3 + 1] / c),
      Math.round(binSum[bin * 3 + 2] / c),
      lab,
      i * 3,
    );
    weights[i] = c;
    total += c;
    for (let j = 0; j < 3; j++) mean[j] += c * lab[i * 3 + j];
    binCount[bin] = 0;
    binSum[bin * 3] = binSum[bin * 3 + 1] = binSum[bin * 3 + 2] = 0;
  }
  if (total > 0) for (let j = 0; j < 3; j++) mean[j] /= total;
  return { palette: clusterColours(lab, weights, options), mean };
}

/** A palette of palettes: the colours of several packed palettes clustered into one (each palette weighing `weight`, default 1). */
export function mergePalettes(
  palettes: readonly PackedPalette[],
  options: PaletteOptions = {},
  weight?: readonly number[],
): PackedPalette {
  let m = 0;
  for (const p of palettes) for (let s = 0; s < p.length / 4; s++) if (p[s * 4 + 3] > 0) m++;
  const lab = new Float32Array(m * 3);
  const w = new Float64Array(m);
  let i = 0;
  palettes.forEach((p, pi) => {
    for (let s = 0; s < p.length / 4; s++) {
      if (!(p[s * 4 + 3] > 0)) continue;
      lab.set(p.subarray(s * 4, s * 4 + 3), i * 3);
      w[i++] = p[s * 4 + 3] * (weight?.[pi] ?? 1);
    }
  });
  return clusterColours(lab, w, options);
}

/** A packed palette as colours for people and JSON (zero-share slots dropped). */
export function describePalette(p: PackedPalette): PaletteColour[] {
  const out: PaletteColour[] = [];
  for (let s = 0; s < p.length / 4; s++)
    if (p[s * 4 + 3] > 0) out.push(describeLab(p[s * 4], p[s * 4 + 1], p[s * 4 + 2], p[s * 4 + 3]));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Storage

export interface ComputePalettesResult {
  space: PaletteSpace;
  k: number;
  /** Stills with a palette now. */
  stills: number;
  /** Stills whose palette this run computed. */
  computed: number;
  /** Stills that could not be read (left out, with reasons). */
  failed: { stillId: number; error: string }[];
  movies: number;
  dir: string;
  seconds: number;
}

/**
 * Makes sure every ready still (and every movie) has a stored palette for this space
 * and k: computes the missing ones from the standardised stills, drops those of stills
 * no longer ready, and rewrites the movie palettes when anything changed.
 */
export async function computePalettes(
  atlas: Atlas,
  options: PaletteOptions & StageOptions & { concurrency?: number } = {},
): Promise<{ set: PaletteSet; result: ComputePalettesResult }> {
  const started = performance.now();
  const opts = resolve(options);
  const { k } = opts;
  const old = readPaletteSet(atlas, opts);
  const ready = await atlas.catalog.stills('ready');
  const todo = ready.filter((s) => !old?.rowOf.has(s.id) || old.manifest.seed !== opts.seed);
  const fresh = new Map<number, { palette: PackedPalette; mean: [number, number, number] }>();
  const failed: { stillId: number; error: string }[] = [];
  let next = 0;
  let done = 0;
  const stage = `palettes ${opts.space} k=${k}`;
  options.onProgress?.({ stage, done: 0, total: todo.length });
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      throwIfAborted(options.signal);
      const s = todo[next++];
      try {
        const img = await readStill(atlas, s);
        fresh.set(s.id, stillPalette(img, opts));
      } catch (err) {
        failed.push({ stillId: s.id, error: describeError(err) });
      }
      done++;
      if (done % 64 === 0 || done === todo.length)
        options.onProgress?.({ stage, done, total: todo.length, failed: failed.length });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  const changed = fresh.size > 0 || !old || old.ids.length !== ready.length - failed.length;
  if (old && !changed) {
    return {
      set: old,
      result: {
        space: opts.space,
        k,
        stills: old.ids.length,
        computed: 0,
        failed,
        movies: old.movies.size,
        dir: old.dir,
        seconds: (performance.now() - started) / 1000,
      },
    };
  }
  const kept = ready.filter(
    (s) => fresh.has(s.id) || (old?.rowOf.has(s.id) && old.manifest.seed === opts.seed),
  );
  const n = kept.length;
  const ids = new Uint32Array(n);
  const colours = new Float32Array(n * k * 4);
  const mean = new Float32Array(n * 3);
  kept.forEach((s, i) => {
    ids[i] = s.id;
    const f = fresh.get(s.id);
    if (f) {
      colours.set(f.palette, i * k * 4);
      mean.set(f.mean, i * 3);
    } else {
      const r = old!.rowOf.get(s.id)!;
      colours.set(old!.colours.subarray(r * k * 4, (r + 1) * k * 4), i * k * 4);
      mean.set(old!.mean.subarray(r * 3, r * 3 + 3), i * 3);
    }
  });
  // Movie palettes from their stills' palettes.
  const byMovie = new Map<number, number[]>();
  kept.forEach((s, i) => {
    let l = byMovie.get(s.movieId);
    if (!l) byMovie.set(s.movieId, (l = []));
    l.push(i);
  });
  const labels = new Map((await atlas.catalog.movies()).map((m) => [m.id, movieLabel(m)]));
  const movies: NewPaletteSet['movies'] = new Map();
  for (const [movieId, rows] of byMovie) {
    const palette = mergePalettes(
      rows.map((r) => colours.subarray(r * k * 4, (r + 1) * k * 4)),
      opts,
    );
    movies.set(movieId, { movie: labels.get(movieId) ?? String(movieId), stills: rows.length, palette });
  }
  const set = writePaletteSet(atlas, { space: opts.space, k, seed: opts.seed, ids, colours, mean, movies });
  return {
    set,
    result: {
      space: opts.space,
      k,
      stills: n,
      computed: fresh.size,
      failed,
      movies: movies.size,
      dir: set.dir,
      seconds: (performance.now() - started) / 1000,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Pictures

/** Writes 8-bit RGB pixels as a PNG; a failure is an IO AtlasError naming the file. */
export async function writeRgbPng(
  path: string,
  rgb: Uint8Array,
  width: number,
  height: number,
): Promise<void> {
  try {
    await sharp(rgb, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(path);
  } catch (cause) {
    throw new AtlasError('IO', `cannot write ${path}: ${describeError(cause)}`, { value: path, cause });
  }
}

/**
 * A swatch strip PNG of one or more palettes: one band per palette (top to bottom),
 * each colour as wide as its share. Default 600 × 80 px per band.
 */
export async function writeSwatchPng(
  path: string,
  palettes: readonly PackedPalette[],
  options: { width?: number; bandHeight?: number } = {},
): Promise<{ path: string; width: number; height: number }> {
  const width = options.width ?? 600;
  const band = options.bandHeight ?? 80;
  const height = band * Math.max(1, palettes.length);
  const rgb = new Uint8Array(width * height * 3);
  palettes.forEach((p, pi) => {
    const cols = describePalette(p);
    let x0 = 0;
    let acc = 0;
    cols.forEach((c, ci) => {
      acc += c.share;
      const x1 = ci === cols.length - 1 ? width : Math.round(acc * width);
      for (let y = pi * band; y < (pi + 1) * band; y++) {
        for (let x = x0; x < x1; x++) rgb.set(c.rgb, (y * width + x) * 3);
      }
      x0 = x1;
    });
  });
  await writeRgbPng(path, rgb, width, height);
  return { path, width, height };
}

export type BarcodeMode = 'mean' | 'dominant';

export interface BarcodeOptions {
  /** Column colour: each still's mean colour (default) or its palette's largest colour. */
  mode?: BarcodeMode;
  /** Width of each still's column in px. Default: enough for ~800 px in all, at least 1; 1–64. */
  columnWidth?: number;
  /** Height in px. Default 200; 1–4096. */
  height?: number;
}

/**
 * A movie barcode: one column per still in film order, coloured by its mean or
 * dominant colour. Returns the hex colour of each column.
 */
export async function writeBarcodePng(
  path: string,
  set: PaletteSet,
  stillIds: readonly number[],
  options: BarcodeOptions = {},
): Promise<{ path: string; width: number; height: number; columns: string[] }> {
  const mode = options.mode ?? 'mean';
  checkChoice('--mode', mode, ['mean', 'dominant']);
  const n = stillIds.length;
  if (n === 0) throw new AtlasError('NOT_FOUND', 'the movie has no stills with palettes to draw');
  const cw = options.columnWidth ?? Math.max(1, Math.min(64, Math.ceil(800 / n)));
  const height = options.height ?? 200;
  checkInt('--column-width', cw, 1, 64);
  checkInt('--height', height, 1, 4096);
  const width = n * cw;
  const rgb = new Uint8Array(width * height * 3);
  const columns: string[] = [];
  const k = set.manifest.k;
  stillIds.forEach((id, i) => {
    const r = set.rowOf.get(id);
    if (r === undefined) throw new AtlasError('STATE', `still ${id} has no palette`);
    const lab =
      mode === 'mean' ? set.mean.subarray(r * 3, r * 3 + 3) : set.colours.subarray(r * k * 4, r * k * 4 + 3);
    const c = labToSrgb(lab[0], lab[1], lab[2]);
    columns.push(describeLab(lab[0], lab[1], lab[2], 1).hex);
    for (let x = i * cw; x < (i + 1) * cw; x++) rgb.set(c, x * 3);
  });
  for (let y = 1; y < height; y++) rgb.copyWithin(y * width * 3, 0, width * 3);
  await writeRgbPng(path, rgb, width, height);
  return { path, width, height, columns };
}
