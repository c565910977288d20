/**
 * Colour search: the stills (or movies) whose palettes are nearest a given palette,
 * by earth mover's distance in CIELAB (ΔE76 ground cost), with the matched colours.
 *
 * `searchPalettes` is the read-only query: a top-k over a stored palette set (the
 * explorer's colour search). `searchColour` (the CLI's `filmatlas search`) first
 * computes and stores the palettes that are missing, then runs the same query.
 */
import type { ColourHit, ColourMatch } from '../api/contract.js';
import type { Atlas } from '../atlas/atlas.js';
import { movieLabel } from '../catalog/catalog.js';
import { AtlasError, invalidArgument } from '../errors.js';
import { labToSrgb, toHex } from '../imaging/colour.js';
import { deltaE, parseHex, rgbToLab } from '../imaging/palette-colour.js';
import type { StageOptions } from '../types.js';
import { emd } from './emd.js';
import {
  computePalettes,
  describePalette,
  stillPaletteOf,
  type PackedPalette,
  type PaletteOptions,
  type PaletteSet,
} from './palette.js';
import { stillIndex, stillRef, type StillRef } from './vectors.js';
import { checkInt } from '../validate.js';

export interface QueryColour {
  hex: string;
  lab: [number, number, number];
  weight: number;
}

/**
 * Parses "#1f3a4d,#e08a3c" (equal weights) or "#1f3a4d:3,#e08a3c:1" / "#1f3a4d:0.75,…"
 * (relative weights) into colours.
 */
export function parseColourQuery(text: string): QueryColour[] {
  const parts = text
    .split(/[,\s]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0 || parts.length > 16)
    throw invalidArgument('colours', '1–16 hex colours separated by commas (e.g. "#1f3a4d,#e08a3c")', text);
  return parts.map((p) => {
    const [hex, w] = p.split(':');
    const rgb = parseHex(hex, 'colours');
    const weight = w === undefined ? 1 : Number(w);
    if (!(weight > 0) || !Number.isFinite(weight))
      throw invalidArgument('colours', 'a positive weight after ":" (e.g. #1f3a4d:0.7)', p);
    return { hex: toHex(...rgb), lab: rgbToLab(...rgb), weight };
  });
}

/** A hit's distance and matched colours (defined by the API contract, which serves them as they are). */
export type { ColourHit, ColourMatch };

export type StillColourHit = ColourHit & StillRef;
export type MovieColourHit = ColourHit & { movie: string; movieId: number; stills: number };

export interface ColourSearchOptions extends StageOptions {
  /** Which stored palettes to search. Default: CIELAB, 6 colours. */
  palette?: PaletteOptions;
  colours: QueryColour[];
  /** Results wanted. Default 12; 1–1000. */
  k?: number;
  /** Search movies (their palettes) instead of stills. Default false. */
  movies?: boolean;
}

export interface ColourSearchResult {
  query: { hex: string; weight: number }[];
  target: 'stills' | 'movies';
  searched: number;
  stills?: StillColourHit[];
  movies?: MovieColourHit[];
}

/** The optimal transport between a query and the used slots of one packed palette. */
function transport(
  query: readonly QueryColour[],
  p: PackedPalette,
): { slots: number[]; cost: Float64Array; flow: Float64Array; distance: number } {
  const slots: number[] = [];
  for (let s = 0; s < p.length / 4; s++) if (p[s * 4 + 3] > 0) slots.push(s);
  const n = query.length;
  const m = slots.length;
  const cost = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const q = query[i].lab;
    slots.forEach(
      (s, j) => (cost[i * m + j] = deltaE(q[0], q[1], q[2], p[s * 4], p[s * 4 + 1], p[s * 4 + 2])),
    );
  }
  const r = emd(
    query.map((q) => q.weight),
    slots.map((s) => p[s * 4 + 3]),
    cost,
  );
  // Rounded as reported, so results rank by the distance they show (ties in search order).
  return { slots, cost, flow: r.flow, distance: Math.round(r.distance * 1000) / 1000 };
}

/** Distance and matched colours between a query and one packed palette. */
export function paletteDistance(query: readonly QueryColour[], p: PackedPalette): ColourHit {
  const { slots, cost, flow, distance } = transport(query, p);
  const m = slots.length;
  const total = query.reduce((a, q) => a + q.weight, 0);
  const matches: ColourMatch[] = query.map((q, i) => {
    let best = 0;
    for (let j = 1; j < m; j++) if (flow[i * m + j] > flow[i * m + best]) best = j;
    const s = slots[best];
    const rgb = labToSrgb(p[s * 4], p[s * 4 + 1], p[s * 4 + 2]);
    return {
      query: q.hex,
      matched: toHex(...rgb),
      deltaE: Math.round(cost[i * m + best] * 100) / 100,
      share: Math.round((flow[i * m + best] / (q.weight / total)) * 1000) / 1000,
    };
  });
  return { distance, matches, palette: describePalette(p).map((c) => c.hex) };
}

export interface PaletteSearchOptions {
  /** Results wanted, at least 1. */
  k: number;
  /** Search the movies' palettes instead of the stills'. Default false. */
  movies?: boolean;
  /** Only ids (still ids, or movie ids with `movies`) for which this is true are searched. Default: all. */
  include?: (id: number) => boolean;
}

export interface PaletteSearchResult {
  /** Palettes in the set (stills, or movies), whether included or not. */
  searched: number;
  /** Still ids (or movie ids) with their hits, nearest first. */
  hits: { id: number; hit: ColourHit }[];
}

/**
 * The k stills (or movies) of a stored palette set whose palettes are nearest the
 * query colours, nearest first; ties keep the set's order (still rows; movies by id).
 * Read-only, and it holds k candidates at a time: only they get their matched colours.
 */
export function searchPalettes(
  set: PaletteSet,
  colours: readonly QueryColour[],
  options: PaletteSearchOptions,
): PaletteSearchResult {
  const k = options.k;
  if (!Number.isInteger(k) || k < 1) throw invalidArgument('k', 'a positive integer', k);
  if (colours.length === 0) throw invalidArgument('colours', 'at least one colour', '');
  const include = options.include ?? (() => true);
  const ids = options.movies ? [...set.movies.keys()].sort((a, b) => a - b) : set.ids;
  const paletteOf = (id: number): PackedPalette | undefined =>
    options.movies ? set.movies.get(id) : stillPaletteOf(set, id);
  const best: { id: number; distance: number }[] = [];
  for (const id of ids) {
    if (!include(id)) continue;
    const p = paletteOf(id);
    if (!p) continue;
    const d = transport(colours, p).distance;
    if (best.length === k && d >= best[k - 1].distance) continue;
    let i = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push({ id, distance: d });
    while (i > 0 && best[i - 1].distance > d) {
      best[i] = best[i - 1];
      i--;
    }
    best[i] = { id, distance: d };
  }
  return {
    searched: options.movies ? set.movies.size : set.ids.length,
    hits: best.map((b) => ({ id: b.id, hit: paletteDistance(colours, paletteOf(b.id)!) })),
  };
}

export async function searchColour(atlas: Atlas, options: ColourSearchOptions): Promise<ColourSearchResult> {
  const k = options.k ?? 12;
  checkInt('--k', k, 1, 1000);
  if (options.colours.length === 0) throw invalidArgument('colours', 'at least one colour', '');
  const { set } = await computePalettes(atlas, {
    ...options.palette,
    onProgress: options.onProgress,
    signal: options.signal,
  });
  if (set.ids.length === 0)
    throw new AtlasError('NOT_FOUND', `no stills with palettes in ${atlas.paths.root}`, {
      suggestion: 'ingest stills first',
    });
  const query = options.colours.map((c) => ({ hex: c.hex, weight: c.weight }));
  const found = searchPalettes(set, options.colours, { k, movies: options.movies });
  if (options.movies) {
    const labels = new Map((await atlas.catalog.movies()).map((m) => [m.id, movieLabel(m)]));
    const counts = new Map<number, number>();
    for (const s of await atlas.catalog.stills('ready'))
      if (set.rowOf.has(s.id)) counts.set(s.movieId, (counts.get(s.movieId) ?? 0) + 1);
    const movies: MovieColourHit[] = found.hits.map(({ id, hit }) => ({
      movie: labels.get(id) ?? String(id),
      movieId: id,
      stills: counts.get(id) ?? 0,
      ...hit,
    }));
    return { query, target: 'movies', searched: found.searched, movies };
  }
  const index = await stillIndex(atlas);
  return {
    query,
    target: 'stills',
    searched: found.searched,
    stills: found.hits.map(({ id, hit }) => ({ ...stillRef(index, id), ...hit })),
  };
}

/** Describes a query colour list for output. */
export function describeQuery(colours: readonly QueryColour[]): string {
  return colours.map((c) => c.hex).join(', ');
}
