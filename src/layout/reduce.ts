/**
 * Maps: a stored feature matrix reduced to 2-D and written as a named points
 * layout (`maps/<name>/`).
 *
 * `REDUCERS` is the lookup table of reductions, each with its defaults:
 *
 * - `pca`: principal components of the (optionally standardised) features; the
 *   layout is the first two. The original analysis's map (StandardScaler +
 *   PCA(2)).
 * - `tsne`: Barnes-Hut t-SNE (tsne.ts) on a PCA front end (50 components by
 *   default, as is usual for t-SNE on CNN features).
 * - `umap`: UMAP (umap.ts) on the same front end.
 *
 * The features are streamed block by block for the PCA (numeric/pca.ts); only the
 * front end's n × 50 matrix is held for t-SNE/UMAP. With `pca: 0` (no front end)
 * the whole feature matrix is read into memory (2.2 GB for 132,617 VGG-16 rows).
 */
import type { Atlas } from '../atlas/atlas.js';
import { FeatureReader } from '../embed/features.js';
import { AtlasError, throwIfAborted, unknownChoice } from '../errors.js';
import { fitTransformPca, type PcaModel } from '../numeric/pca.js';
import type { Matrix, StageOptions } from '../types.js';
import { writeLayout, type LayoutManifest } from '../atlas/layouts.js';
import { checkArtefactName } from '../atlas/paths.js';
import { checkOptions, type OptionSpec } from '../validate.js';

export type ReduceMethod = 'pca' | 'tsne' | 'umap';

export interface MapOptions extends StageOptions {
  /** Feature set to map (`vgg16`, `color`, …): `features/<features>/` of the atlas. */
  features: string;
  /** Reduction, a name from REDUCERS. */
  reduce: ReduceMethod | string;
  /** Name of the layout to write (letters, digits, '-', '_', '.'; at most 64). */
  name: string;
  /** StandardScaler before the PCA (zero mean, unit variance per column). Default false. */
  standardize?: boolean;
  /** Components of the PCA for `pca` (the layout is the first two; the ratios of all are reported). Default 2; 2–100. */
  components?: number;
  /** PCA front-end dimensions for tsne/umap; 0 = none (reduce the features themselves). Default 50; 0–1,000. */
  pca?: number;
  /** PCA method: 'auto' (default), 'exact' or 'randomized' (see numeric/pca.ts). */
  pcaMethod?: 'auto' | 'exact' | 'randomized';
  /** Seed of every random step (randomized PCA, t-SNE/UMAP initialisation and sampling). Default 0. */
  seed?: number;
  /** t-SNE perplexity. Default 30; 2–100, and below (n − 1)/3. */
  perplexity?: number;
  /** t-SNE gradient-descent iterations, early exaggeration included. Default: t-SNE's own (750); 50–100,000. */
  iterations?: number;
  /** UMAP neighbours. Default 15; 2–200. */
  neighbors?: number;
  /** UMAP minimum distance between embedded points. Default 0.1; 0–1. */
  minDist?: number;
  /** UMAP optimisation epochs. Default: UMAP's own (by n); 10–10,000. */
  epochs?: number;
  /** Threads for the products and the reducers. Default: all cores. */
  threads?: number;
}

export interface MapResult {
  name: string;
  features: string;
  reduce: ReduceMethod;
  n: number;
  /** Feature dimension of the input. */
  dim: number;
  /** Dimensions handed to t-SNE/UMAP (the front end's components, or dim without one); 0 for PCA. */
  reducerDim: number;
  /** PCA's explained variance ratios (the map's components, or the front end's). */
  explainedVarianceRatio: number[];
  pcaMethod?: 'exact' | 'randomized';
  seconds: { pca: number; reduce: number; total: number };
  manifest: LayoutManifest;
}

interface ReducerContext extends StageOptions {
  seed: number;
  threads?: number;
  /**
   * 'pca' when x is PCA output (its first two columns are the top components, a
   * good start); 'random' when x is the features themselves.
   */
  init: 'pca' | 'random';
}

export interface Reducer {
  name: ReduceMethod;
  description: string;
  /** Defaults of the reducer's own parameters (recorded with each layout). */
  defaults: Record<string, number>;
  /** 2-D coordinates (n × 2) of the rows of `x`. */
  run?(x: Matrix, params: Record<string, number>, ctx: ReducerContext): Promise<Float32Array>;
}

/** The lookup table of reductions; each entry carries its defaults. */
export const REDUCERS: Readonly<Record<ReduceMethod, Reducer>> = {
  pca: {
    name: 'pca',
    description: 'principal components (optionally standardised): linear, fast, the original analysis',
    defaults: { components: 2 },
  },
  tsne: {
    name: 'tsne',
    description: 't-SNE (Barnes-Hut) on a PCA front end: tight local clusters',
    defaults: { pca: 50, perplexity: 30 },
    // Loaded on use: a PCA map does not load the t-SNE code (nor the other way round).
    run: async (x, p, ctx) =>
      (await import('./tsne.js')).tsne(x, {
        perplexity: p.perplexity,
        iterations: p.iterations,
        seed: ctx.seed,
        threads: ctx.threads,
        init: ctx.init,
        onProgress: ctx.onProgress,
        signal: ctx.signal,
      }),
  },
  umap: {
    name: 'umap',
    description: 'UMAP on a PCA front end: local clusters and more of the global shape',
    defaults: { pca: 50, neighbors: 15, minDist: 0.1 },
    run: async (x, p, ctx) =>
      (await import('./umap.js')).umap(x, {
        neighbors: p.neighbors,
        minDist: p.minDist,
        epochs: p.epochs,
        seed: ctx.seed,
        threads: ctx.threads,
        init: ctx.init,
        onProgress: ctx.onProgress,
        signal: ctx.signal,
      }),
  },
};

export function reducer(name: string): Reducer {
  const r = Object.prototype.hasOwnProperty.call(REDUCERS, name) ? REDUCERS[name as ReduceMethod] : undefined;
  if (!r) throw unknownChoice('reduction', name, Object.keys(REDUCERS));
  return r;
}

/**
 * The tunable options of `mapLayout` as data: `checkMapOptions` checks them from here
 * and the CLI's `map` flags are made from here, so a new option is its field in
 * `MapOptions` and one entry below.
 */
export const MAP_OPTIONS: readonly OptionSpec<keyof MapOptions>[] = [
  {
    key: 'standardize',
    type: 'switch',
    description: "scale every feature to zero mean and unit variance first (sklearn's StandardScaler)",
  },
  {
    key: 'components',
    type: 'int',
    min: 2,
    max: 100,
    value: '<n>',
    description: `pca: components to fit and report (the map is the first two; default ${REDUCERS.pca.defaults.components})`,
  },
  {
    key: 'pca',
    type: 'int',
    min: 0,
    max: 1000,
    value: '<n>',
    description: `tsne/umap: PCA front-end dimensions, 0 = none (default ${REDUCERS.tsne.defaults.pca})`,
  },
  {
    key: 'pcaMethod',
    type: 'choice',
    choices: ['auto', 'exact', 'randomized'],
    value: '<m>',
    description: 'auto|exact|randomized (default auto: randomized above 1,024 dimensions)',
  },
  {
    key: 'seed',
    type: 'int',
    min: 0,
    max: 2 ** 32 - 1,
    value: '<n>',
    description: 'seed for every random step (default 0)',
  },
  {
    key: 'perplexity',
    type: 'number',
    min: 2,
    max: 100,
    value: '<p>',
    description: `tsne: perplexity (default ${REDUCERS.tsne.defaults.perplexity})`,
  },
  {
    key: 'iterations',
    type: 'int',
    min: 50,
    max: 100000,
    value: '<n>',
    description: 'tsne: gradient-descent iterations (default 750)',
  },
  {
    key: 'neighbors',
    type: 'int',
    min: 2,
    max: 200,
    value: '<k>',
    description: `umap: neighbours (default ${REDUCERS.umap.defaults.neighbors})`,
  },
  {
    key: 'minDist',
    type: 'number',
    min: 0,
    max: 1,
    value: '<d>',
    description: `umap: minimum distance (default ${REDUCERS.umap.defaults.minDist})`,
  },
  {
    key: 'epochs',
    type: 'int',
    min: 10,
    max: 10000,
    value: '<n>',
    description: 'umap: optimisation epochs (default: by n)',
  },
  {
    key: 'threads',
    type: 'int',
    min: 1,
    max: 1024,
    value: '<n>',
    description: 'threads (default: all cores)',
  },
];

/** Validates the options that do not need the data (the CLI calls this before opening the atlas). */
export function checkMapOptions(o: MapOptions): Reducer {
  const r = reducer(o.reduce);
  checkArtefactName('layout', o.name);
  checkOptions(MAP_OPTIONS, o);
  return r;
}

function elapsed(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/**
 * Reduces the atlas's `features` to 2-D with `reduce` and writes the points layout
 * `name`. Row i of the layout is row i of the feature matrix (same still id).
 */
export async function mapLayout(atlas: Atlas, options: MapOptions): Promise<MapResult> {
  const r = checkMapOptions(options);
  const reader = FeatureReader.open(atlas, options.features);
  const n = reader.rows;
  const dim = reader.dim;
  const seed = options.seed ?? 0;
  const t0 = performance.now();
  const stage = { onProgress: options.onProgress, signal: options.signal };
  // The PCA every method starts from (the map itself for 'pca', the front end for the others).
  const fitPcaOf = (components: number) =>
    fitTransformPca(reader, {
      components,
      standardize: options.standardize,
      method: options.pcaMethod ?? 'auto',
      seed,
      threads: options.threads,
      ...stage,
    });
  let pcaModel: PcaModel | undefined;
  let pcaSeconds = 0;
  let reduceSeconds = 0;
  let xy: Float32Array;
  let reducerDim = 0;
  const params: Record<string, unknown> = { standardize: Boolean(options.standardize), seed };

  if (r.name === 'pca') {
    const components = options.components ?? r.defaults.components;
    if (components > Math.min(n, dim)) {
      throw new AtlasError(
        'INVALID_ARGUMENT',
        `PCA of ${n} × ${dim} '${options.features}' features can have at most ${Math.min(n, dim)} components, not ${components}`,
        { value: String(components) },
      );
    }
    // fit + projection, the randomized projection from the fit's last pass (sklearn's fit_transform).
    const fitted = await fitPcaOf(components);
    pcaModel = fitted.model;
    const y = fitted.projection;
    xy = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      xy[2 * i] = y[i * components];
      xy[2 * i + 1] = y[i * components + 1];
    }
    pcaSeconds = elapsed(t0);
    Object.assign(params, { components, pcaMethod: pcaModel.method });
  } else {
    const run = r.run!;
    const frontEnd = options.pca ?? r.defaults.pca;
    let x: Matrix;
    // A front end only helps when it reduces; at or above the feature dimension the
    // features go to the reducer as they are (standardised if asked).
    if (frontEnd > 0 && frontEnd < Math.min(n, dim)) {
      const fitted = await fitPcaOf(frontEnd);
      pcaModel = fitted.model;
      x = { data: fitted.projection, rows: n, cols: frontEnd };
      pcaSeconds = elapsed(t0);
    } else {
      x = { data: reader.readRows(0, n), rows: n, cols: dim };
      if (options.standardize) standardizeInPlace(x);
    }
    throwIfAborted(options.signal);
    reducerDim = x.cols;
    const p: Record<string, number> = {};
    if (r.name === 'tsne') {
      p.perplexity = options.perplexity ?? r.defaults.perplexity;
      if (options.iterations !== undefined) p.iterations = options.iterations;
      if (n - 1 < 3 * p.perplexity) {
        throw new AtlasError(
          'INVALID_ARGUMENT',
          `t-SNE with perplexity ${p.perplexity} needs more than ${3 * p.perplexity + 1} stills; '${options.features}' has ${n}`,
          {
            value: String(p.perplexity),
            suggestion: `use --perplexity ${Math.max(2, Math.floor((n - 1) / 3))} or less`,
          },
        );
      }
    } else {
      p.neighbors = options.neighbors ?? r.defaults.neighbors;
      p.minDist = options.minDist ?? r.defaults.minDist;
      if (options.epochs !== undefined) p.epochs = options.epochs;
      if (p.neighbors >= n) {
        throw new AtlasError(
          'INVALID_ARGUMENT',
          `UMAP with ${p.neighbors} neighbours needs more than ${p.neighbors} stills; '${options.features}' has ${n}`,
          { value: String(p.neighbors), suggestion: `use --neighbors ${Math.max(2, n - 1)} or less` },
        );
      }
    }
    const t1 = performance.now();
    xy = await run(x, p, { seed, threads: options.threads, init: pcaModel ? 'pca' : 'random', ...stage });
    reduceSeconds = elapsed(t1);
    if (xy.length !== 2 * n) {
      throw new AtlasError('STATE', `${r.name} returned ${xy.length} coordinates for ${n} stills`);
    }
    Object.assign(params, { pca: pcaModel ? frontEnd : 0, init: pcaModel ? 'pca' : 'random', ...p });
    if (pcaModel) params.pcaMethod = pcaModel.method;
  }
  throwIfAborted(options.signal);
  const total = elapsed(t0);
  const ratios = pcaModel ? Array.from(pcaModel.explainedVarianceRatio) : [];
  const manifest = writeLayout(atlas, {
    name: options.name,
    kind: 'points',
    features: options.features,
    method: r.name,
    params,
    xy,
    ids: Uint32Array.from(reader.stillIds),
    stats: {
      dim,
      reducerDim,
      explainedVarianceRatio: ratios,
      seconds: { pca: pcaSeconds, reduce: reduceSeconds, total },
    },
  });
  return {
    name: options.name,
    features: options.features,
    reduce: r.name,
    n,
    dim,
    reducerDim,
    explainedVarianceRatio: ratios,
    ...(pcaModel ? { pcaMethod: pcaModel.method } : {}),
    seconds: { pca: pcaSeconds, reduce: reduceSeconds, total },
    manifest,
  };
}

/** StandardScaler on a matrix in memory (population std; constant columns unscaled), row-wise. */
function standardizeInPlace(x: Matrix): void {
  const { data, rows, cols } = x;
  const s1 = new Float64Array(cols);
  const s2 = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = data[i * cols + j] - data[j]; // shifted by row 0, against cancellation
      s1[j] += v;
      s2[j] += v * v;
    }
  }
  const mean = new Float64Array(cols);
  const f = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    const m = s1[j] / rows;
    const sd = Math.sqrt(Math.max(0, s2[j] / rows - m * m));
    mean[j] = data[j] + m;
    f[j] = sd > 0 ? 1 / sd : 1;
  }
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) data[i * cols + j] = (data[i * cols + j] - mean[j]) * f[j];
}
