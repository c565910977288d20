/**
 * Colour search: the stills (or movies) whose palettes are nearest a given palette,
 * by earth mover's distance in CIELAB (ΔE76 ground cost), with the matched colours.
 */
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

export interface ColourMatch {
  /** The query colour… */
  query: string;
  /** …and the palette colour most of it was matched to. */
  matched: string;
  deltaE: number;
  /** Share of the query colour's weight moved to that colour. */
  share: number;
}

export interface ColourHit {
  /** Earth mover's distance in ΔE units (0 = same palette). */
  distance: number;
  matches: ColourMatch[];
  palette: string[];
}

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

/** Distance and matched colours between a query and one packed palette. */
export function paletteDistance(query: readonly QueryColour[], p: PackedPalette): ColourHit {
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
  const total = query.reduce((a, q) => a + q.weight, 0);
  const matches: ColourMatch[] = query.map((q, i) => {
    let best = 0;
    for (let j = 1; j < m; j++) if (r.flow[i * m + j] > r.flow[i * m + best]) best = j;
    const s = slots[best];
    const rgb = labToSrgb(p[s * 4], p[s * 4 + 1], p[s * 4 + 2]);
    return {
      query: q.hex,
      matched: toHex(...rgb),
      deltaE: Math.round(cost[i * m + best] * 100) / 100,
      share: Math.round((r.flow[i * m + best] / (q.weight / total)) * 1000) / 1000,
    };
  });
  return {
    distance: Math.round(r.distance * 1000) / 1000,
    matches,
    palette: describePalette(p).map((c) => c.hex),
  };
}

/** Keeps the `k` smallest by distance (ties by order seen). */
function topK<T extends { distance: number }>(items: T[], k: number): T[] {
  return items.sort((a, b) => a.distance - b.distance).slice(0, k);
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
  if (options.movies) {
    const labels = new Map(atlas.catalog.movies().map((m) => [m.id, movieLabel(m)]));
    const counts = new Map<number, number>();
    for (const s of atlas.catalog.stills('ready'))
      if (set.rowOf.has(s.id)) counts.set(s.movieId, (counts.get(s.movieId) ?? 0) + 1);
    const hits: MovieColourHit[] = [];
    for (const [movieId, p] of set.movies) {
      hits.push({
        movie: labels.get(movieId) ?? String(movieId),
        movieId,
        stills: counts.get(movieId) ?? 0,
        ...paletteDistance(options.colours, p),
      });
    }
    return { query, target: 'movies', searched: set.movies.size, movies: topK(hits, k) };
  }
  const index = stillIndex(atlas);
  // Keep a bounded list so a big collection never holds every hit.
  let hits: { stillId: number; hit: ColourHit }[] = [];
  set.ids.forEach((id) => {
    const hit = paletteDistance(options.colours, stillPaletteOf(set, id)!);
    hits.push({ stillId: id, hit });
    if (hits.length > 4 * k + 256)
      hits = topK(
        hits.map((h) => ({ ...h, distance: h.hit.distance })),
        k,
      );
  });
  const best = topK(
    hits.map((h) => ({ ...h, distance: h.hit.distance })),
    k,
  );
  return {
    query,
    target: 'stills',
    searched: set.ids.length,
    stills: best.map((h) => ({ ...stillRef(index, h.stillId), ...h.hit })),
  };
}

/** Describes a query colour list for output. */
export function describeQuery(colours: readonly QueryColour[]): string {
  return colours.map((c) => c.hex).join(', ');
}
