/**
 * Stored palettes: the palette set of an atlas for one clustering space and k, its
 * file format, its reader and its writer. Computing palettes from pixels is the looks
 * stage's work (src/looks/palette.ts); this module only knows how they are kept.
 *
 * `<atlas>/looks/palettes/<space>-k<k>/` holds `manifest.json`, `ids.u32` (still id per
 * row), `colours.f32` (rows × k × 4 float32: L, a, b, share; unused slots have share 0),
 * `mean.f32` (rows × 3: the mean CIELAB colour of each still, for barcodes) and
 * `movies.json` (each movie's palette). Each file is replaced whole (temporary file +
 * rename), the manifest last, and the reader checks the files against the manifest's
 * row count, so a set caught half-written reads as missing and is computed again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unknownChoice } from '../errors.js';
import { checkInt } from '../validate.js';
import type { Atlas } from './atlas.js';
import { writeAtomic, writeJsonAtomic } from './files.js';
import { paletteDir } from './paths.js';

/** Colours per palette when none is asked for. */
export const DEFAULT_PALETTE_K = 6;
/** The most colours a palette may have. */
export const MAX_PALETTE_K = 16;

/**
 * Where palette colours are clustered (the looks stage's `PALETTE_SPACES` table
 * describes each, and is typed by this union, so the two cannot drift apart).
 */
export type PaletteSpace = 'lab' | 'hsl' | 'rgb';
const PALETTE_SPACE_NAMES: readonly PaletteSpace[] = ['lab', 'hsl', 'rgb'];

/** Checks a palette space name ("unknown colour space 'x': must be one of [lab, hsl, rgb]") and returns it. */
export function checkPaletteSpace(name: string): PaletteSpace {
  if (!(PALETTE_SPACE_NAMES as readonly string[]).includes(name))
    throw unknownChoice('colour space', name, PALETTE_SPACE_NAMES);
  return name as PaletteSpace;
}

/** A palette in compact form: k rows of (L, a, b, share), shares summing to 1, largest first. */
export type PackedPalette = Float32Array;

// One palette colour as reported to people and in JSON: defined once, in the API contract.
export type { PaletteColour } from '../api/contract.js';

/** Which palette set: its clustering space and its number of colours. */
export interface PaletteSetKey {
  space: PaletteSpace;
  k: number;
}

/** Checks (and defaults: 'lab', 6) the space and k that name a palette set. */
export function paletteSetKey(options: { space?: string; k?: number } = {}): PaletteSetKey {
  const k = options.k ?? DEFAULT_PALETTE_K;
  checkInt('--k', k, 1, MAX_PALETTE_K);
  return { space: checkPaletteSpace(options.space ?? 'lab'), k };
}

export interface PaletteManifest {
  version: 1;
  space: PaletteSpace;
  k: number;
  seed: number;
  rows: number;
  updatedAt: string;
}

/** The stored palettes of every ready still, for one space and k. */
export interface PaletteSet {
  manifest: PaletteManifest;
  dir: string;
  ids: Uint32Array;
  /** rows × k × 4 (L, a, b, share). */
  colours: Float32Array;
  /** rows × 3 mean CIELAB. */
  mean: Float32Array;
  /** Row of each still id. */
  rowOf: Map<number, number>;
  /** Palette of each movie id. */
  movies: Map<number, PackedPalette>;
}

function f32(path: string): Float32Array {
  const b = readFileSync(path);
  const out = new Float32Array(b.length >> 2);
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 4));
  return out;
}

/**
 * Reads a stored palette set (default: CIELAB, k = 6), or undefined when there is none
 * or it is damaged (its files disagree with its manifest): it is then computed again.
 */
export function readPaletteSet(
  atlas: Pick<Atlas, 'paths'>,
  options: { space?: PaletteSpace; k?: number } = {},
): PaletteSet | undefined {
  const { space, k } = paletteSetKey(options);
  const dir = paletteDir(atlas.paths, space, k);
  const mp = join(dir, 'manifest.json');
  if (!existsSync(mp)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(mp, 'utf8')) as PaletteManifest;
    const idb = readFileSync(join(dir, 'ids.u32'));
    const ids = new Uint32Array(idb.length >> 2);
    new Uint8Array(ids.buffer).set(idb.subarray(0, ids.length * 4));
    const colours = f32(join(dir, 'colours.f32'));
    const mean = f32(join(dir, 'mean.f32'));
    if (
      ids.length !== manifest.rows ||
      colours.length !== manifest.rows * k * 4 ||
      mean.length !== manifest.rows * 3
    )
      return undefined;
    const movies = new Map<number, PackedPalette>();
    const mj = JSON.parse(readFileSync(join(dir, 'movies.json'), 'utf8')) as Record<
      string,
      { colours: number[] }
    >;
    for (const [id, v] of Object.entries(mj)) movies.set(Number(id), Float32Array.from(v.colours));
    return { manifest, dir, ids, colours, mean, rowOf: rowsOf(ids), movies };
  } catch {
    return undefined;
  }
}

/** A palette set to store: rows of still palettes and the palette of each movie. */
export interface NewPaletteSet extends PaletteSetKey {
  seed: number;
  ids: Uint32Array;
  /** rows × k × 4 (L, a, b, share). */
  colours: Float32Array;
  /** rows × 3 mean CIELAB. */
  mean: Float32Array;
  /** Per movie id: its label (for people reading movies.json), its still count and its palette. */
  movies: Map<number, { movie: string; stills: number; palette: PackedPalette }>;
}

/**
 * Stores a palette set, replacing the one of its space and k, and returns it as
 * `readPaletteSet` would read it back (movie palettes unrounded; movies.json keeps
 * four decimals).
 */
export function writePaletteSet(atlas: Pick<Atlas, 'paths'>, set: NewPaletteSet): PaletteSet {
  const { space, k } = paletteSetKey(set);
  const dir = paletteDir(atlas.paths, space, k);
  const n = set.ids.length;
  const moviesJson: Record<string, { movie: string; stills: number; colours: number[] }> = {};
  const movies = new Map<number, PackedPalette>();
  for (const [movieId, m] of set.movies) {
    movies.set(movieId, m.palette);
    moviesJson[movieId] = {
      movie: m.movie,
      stills: m.stills,
      colours: Array.from(m.palette, (v) => Math.round(v * 1e4) / 1e4),
    };
  }
  const manifest: PaletteManifest = {
    version: 1,
    space,
    k,
    seed: set.seed,
    rows: n,
    updatedAt: new Date().toISOString(),
  };
  writeAtomic(join(dir, 'ids.u32'), bytesOf(set.ids));
  writeAtomic(join(dir, 'colours.f32'), bytesOf(set.colours));
  writeAtomic(join(dir, 'mean.f32'), bytesOf(set.mean));
  writeAtomic(join(dir, 'movies.json'), JSON.stringify(moviesJson) + '\n');
  // Last: a reader trusts the other files only when they agree with it.
  writeJsonAtomic(join(dir, 'manifest.json'), manifest);
  return {
    manifest,
    dir,
    ids: set.ids,
    colours: set.colours,
    mean: set.mean,
    rowOf: rowsOf(set.ids),
    movies,
  };
}

/** The packed palette of one still of a set. */
export function stillPaletteOf(set: PaletteSet, stillId: number): PackedPalette | undefined {
  const r = set.rowOf.get(stillId);
  const k = set.manifest.k;
  return r === undefined ? undefined : set.colours.subarray(r * k * 4, (r + 1) * k * 4);
}

function rowsOf(ids: Uint32Array): Map<number, number> {
  const rowOf = new Map<number, number>();
  ids.forEach((id, i) => rowOf.set(id, i));
  return rowOf;
}

function bytesOf(a: Uint32Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
