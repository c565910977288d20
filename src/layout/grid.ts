/**
 * Grids: every still of a 2-D layout gets its own cell of a rectangular grid,
 * keeping neighbours together (RasterFairy's job, done better and faster).
 *
 * `GRIDS` is the lookup table of assignment methods, each with its defaults:
 *
 * - `transport` (default): estimate where optimal transport sends each point
 *   onto the grid (an auction on a subsample, see grid-ot.ts), split the grid
 *   kd-style by those destinations, then refine: alternate pairwise swaps and
 *   exact assignment in small windows towards targets that pull each still
 *   next to its 10 nearest neighbours of the layout. Lowest displacement.
 * - `neighbours`: the same refinement on RasterFairy's split of the raw layout:
 *   highest neighbour recall, displacement like RasterFairy's.
 * - `split`: RasterFairy's recursive balanced split alone (fastest).
 * - `rasterfairy`: a faithful port of RasterFairy's `transformPointCloud2D`,
 *   for side-by-side figures.
 */
import { AtlasError, throwIfAborted, unknownChoice } from '../errors.js';
import type { StageOptions } from '../types.js';
import type { Atlas } from '../atlas/atlas.js';
import {
  kdSplit,
  pointsByCell,
  refineWindows,
  swapSweep,
  unitPoints,
  cellPositions,
  type GridShape,
} from './grid-assign.js';
import { transportDestinations } from './grid-ot.js';
import { rasterFairy } from './grid-rasterfairy.js';
import { chooseShape } from './grid-shape.js';
import { gridQuality, knn2d } from './quality.js';
import { readLayout, writeLayout } from '../atlas/layouts.js';

export {
  rectArrangements,
  chooseShape,
  nearSquareShape,
  parseShape,
  PROPORTION_THRESHOLD,
} from './grid-shape.js';
export type { GridShape } from './grid-assign.js';

/** Parameters of the refining methods (`transport`, `neighbours`). */
export interface RefineParams {
  /** Refinement rounds (targets recomputed each round). Default 6; 0–100. */
  rounds: number;
  /** Swap sweeps per round. Default 4; 0–100. */
  sweeps: number;
  /** Exact-assignment window side in cells (0 = none). Default 3; 0 or 2–8. */
  window: number;
  /** Layout neighbours each still is pulled towards. Default 10; 1–50. */
  neighbours: number;
  /** Weight of the still's own layout position in its target (the rest: its neighbours' cells). Default 0.3; 0–1. */
  anchor: number;
  /** Points in the transport estimate's subsample (transport only). Default 2,048; 100–50,000. */
  sample: number;
}

export interface GridMethod {
  name: string;
  description: string;
  /** Defaults of the method's parameters (empty for methods without any). */
  defaults: Partial<RefineParams>;
  assign(
    xy: ArrayLike<number>,
    n: number,
    shape: GridShape,
    params: Partial<RefineParams>,
    ctx: AssignContext,
  ): Int32Array;
}

interface AssignContext {
  seed: number;
  shouldStop: () => boolean;
  step: (done: number, total: number, note: string) => void;
}

const REFINE_DEFAULTS: RefineParams = {
  rounds: 6,
  sweeps: 4,
  window: 3,
  neighbours: 10,
  anchor: 0.3,
  sample: 2048,
};

/** The lookup table of grid methods; each entry carries its defaults. */
export const GRIDS: Readonly<Record<string, GridMethod>> = {
  transport: {
    name: 'transport',
    description: 'transport estimate + split + neighbour refinement (lowest displacement; default)',
    defaults: REFINE_DEFAULTS,
    assign: (xy, n, shape, params, ctx) =>
      refined(xy, n, shape, { ...REFINE_DEFAULTS, ...params }, ctx, true),
  },
  neighbours: {
    name: 'neighbours',
    description: "RasterFairy's split + neighbour refinement (highest neighbour recall)",
    defaults: REFINE_DEFAULTS,
    assign: (xy, n, shape, params, ctx) =>
      refined(xy, n, shape, { ...REFINE_DEFAULTS, ...params }, ctx, false),
  },
  split: {
    name: 'split',
    description: "RasterFairy's recursive balanced split alone (fastest)",
    defaults: {},
    assign: (xy, n, shape) => kdSplit(unitPoints(xy, n), n, shape),
  },
  rasterfairy: {
    name: 'rasterfairy',
    description: "a faithful port of RasterFairy's transformPointCloud2D (for comparison)",
    defaults: {},
    assign: (xy, n, shape, _params, ctx) => rasterFairy(xy, n, shape, { seed: ctx.seed }),
  },
};

export const DEFAULT_GRID = 'transport';

export function gridMethod(name: string): GridMethod {
  const m = Object.prototype.hasOwnProperty.call(GRIDS, name) ? GRIDS[name] : undefined;
  if (!m) throw unknownChoice('grid method', name, Object.keys(GRIDS));
  return m;
}

function refined(
  xy: ArrayLike<number>,
  n: number,
  shape: GridShape,
  p: RefineParams,
  ctx: AssignContext,
  transport: boolean,
): Int32Array {
  const u = unitPoints(xy, n);
  const total = p.rounds + 2;
  ctx.step(0, total, transport ? 'transport estimate' : 'split');
  const start = transport
    ? transportDestinations(u, n, shape, p.sample, { seed: ctx.seed, shouldStop: ctx.shouldStop })
    : u;
  const cellOf = kdSplit(start, n, shape);
  if (n < 3) return cellOf;
  const pointAt = pointsByCell(cellOf, shape);
  const pos = cellPositions(shape);
  const k = Math.min(p.neighbours, n - 1);
  ctx.step(1, total, 'neighbours');
  const nn = knn2d(u, k);
  const target = Float64Array.from(u);
  for (let round = 0; round < p.rounds; round++) {
    if (ctx.shouldStop()) break;
    // The first round orders each neighbourhood by layout position alone; later
    // rounds pull every still towards the cells of its layout neighbours.
    if (round > 0) {
      const a = p.anchor,
        b = (1 - p.anchor) / (k + 1);
      for (let i = 0; i < n; i++) {
        let sx = 0,
          sy = 0;
        for (let s = 0; s < k; s++) {
          const c = cellOf[nn[i * k + s]];
          sx += pos[2 * c];
          sy += pos[2 * c + 1];
        }
        const c = cellOf[i];
        target[2 * i] = a * u[2 * i] + b * (sx + pos[2 * c]);
        target[2 * i + 1] = a * u[2 * i + 1] + b * (sy + pos[2 * c + 1]);
      }
    }
    if (p.sweeps > 0) swapSweep(target, cellOf, pointAt, shape, pos, p.sweeps);
    if (p.window >= 2)
      refineWindows(target, cellOf, pointAt, shape, pos, {
        window: p.window,
        passes: 1 + (round % 2),
        shouldStop: ctx.shouldStop,
      });
    ctx.step(round + 2, total, `refine ${round + 1}/${p.rounds}`);
  }
  return cellOf;
}

export interface AssignGridOptions extends StageOptions {
  /** Grid size; default: the most square exact arrangement of n, else a near-square one with a few empty cells. */
  shape?: GridShape;
  /** A name from GRIDS. Default 'transport'. */
  method?: string;
  /** Overrides of the method's parameters. */
  params?: Partial<RefineParams>;
  /** Seed for the random steps (subsamples, RasterFairy's empty cells). Default 0. */
  seed?: number;
}

export interface GridAssignment {
  shape: GridShape;
  method: string;
  /** (col, row) of each point, n×2. */
  xy: Int32Array;
  /** Cell index (row·cols + col) of each point. */
  cellOf: Int32Array;
  seconds: number;
}

/**
 * Assigns the n points of a 2-D layout (`xy`, n×2) to distinct cells of a grid.
 * A pure function of its inputs (and the seed).
 */
export function assignGrid(xy: ArrayLike<number>, options: AssignGridOptions = {}): GridAssignment {
  if (xy.length % 2 !== 0)
    throw new AtlasError('INVALID_ARGUMENT', `a 2-D layout needs n×2 coordinates, got ${xy.length} numbers`);
  const n = xy.length / 2;
  for (let i = 0; i < xy.length; i++) {
    if (!Number.isFinite(xy[i])) {
      throw new AtlasError(
        'INVALID_ARGUMENT',
        `layout point ${i >> 1} has a non-finite coordinate (${xy[i]})`,
        { value: String(xy[i]) },
      );
    }
  }
  const shape = chooseShape(n, options.shape);
  const method = gridMethod(options.method ?? DEFAULT_GRID);
  const t0 = performance.now();
  const stage = `grid ${method.name}`;
  const cellOf = method.assign(xy, n, shape, options.params ?? {}, {
    seed: options.seed ?? 0,
    shouldStop: () => options.signal?.aborted ?? false,
    step: (done, total, note) => options.onProgress?.({ stage, done, total, note }),
  });
  throwIfAborted(options.signal);
  const seconds = (performance.now() - t0) / 1000;
  const out = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = cellOf[i] % shape.cols;
    out[2 * i + 1] = Math.floor(cellOf[i] / shape.cols);
  }
  return { shape, method: method.name, xy: out, cellOf, seconds };
}

export interface GridLayoutOptions extends AssignGridOptions {
  /** Name of the points layout to snap (e.g. 'pca'). */
  layout: string;
  /** Name of the grid layout to write (e.g. 'pca-grid'). */
  name: string;
}

export interface GridLayoutResult {
  name: string;
  source: string;
  method: string;
  n: number;
  cols: number;
  rows: number;
  emptyCells: number;
  /** Mean neighbour recall@10 against the points layout (gridQuality). */
  recall10: number;
  meanDisplacement: number;
  /** Time of the assignment alone. */
  seconds: number;
}

/** Reads a points layout of the atlas, snaps it to a grid, writes the grid layout (kind 'grid'). */
export async function gridLayout(atlas: Atlas, options: GridLayoutOptions): Promise<GridLayoutResult> {
  const src = readLayout(atlas, options.layout);
  if (src.manifest.kind !== 'points') {
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `layout '${options.layout}' is a ${src.manifest.kind} layout; a grid is made from a points layout`,
      {
        value: options.layout,
        suggestion: `use the points layout it was made from (${String(src.manifest.params?.source ?? 'e.g. pca')})`,
      },
    );
  }
  const n = src.manifest.n;
  if (n < 1)
    throw new AtlasError('STATE', `layout '${options.layout}' has no points`, { value: options.layout });
  const r = assignGrid(src.xy, options);
  const q = gridQuality(src.xy, r.xy, { k: Math.min(10, Math.max(1, n - 1)) });
  const stats = {
    recall10: q.recall,
    displacement: q.meanDisplacement,
    seconds: r.seconds,
    emptyCells: r.shape.cols * r.shape.rows - n,
  };
  const method = gridMethod(r.method);
  const xy = new Float32Array(r.xy);
  writeLayout(atlas, {
    name: options.name,
    kind: 'grid',
    features: src.manifest.features,
    method: `grid:${r.method}`,
    params: {
      source: options.layout,
      ...method.defaults,
      ...(options.params ?? {}),
      seed: options.seed ?? 0,
    },
    xy,
    ids: src.ids,
    grid: { rows: r.shape.rows, cols: r.shape.cols },
    stats,
  });
  return {
    name: options.name,
    source: options.layout,
    method: r.method,
    n,
    cols: r.shape.cols,
    rows: r.shape.rows,
    emptyCells: stats.emptyCells,
    recall10: q.recall,
    meanDisplacement: q.meanDisplacement,
    seconds: r.seconds,
  };
}
