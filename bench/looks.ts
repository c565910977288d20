/**
 * Quality of the looks stage on the sample collection (`filmatlas sample`, whose
 * movies.csv gives each movie's look family — the ground truth here). Prints figures,
 * never passes or fails:
 *
 * - similar-movie precision@5 (a hit = a movie of the same family), per feature set
 *   and normalisation;
 * - cluster purity, NMI and ARI against the families (k-means with k = families,
 *   k-means with k = auto, HDBSCAN);
 * - recall@10 of the approximate (HNSW) index against exact k-NN, on the sample and on
 *   a bigger synthetic set made from it (each still's vector plus noise);
 * - DTW normalised distance of a movie against itself with stills dropped / shifted,
 *   against a movie of its family, and against a movie of another family.
 *
 * Usage: npm run bench:looks [-- --movies 24 --stills 40 --big 50000 --hard 20000]
 * vgg16 figures appear only when real VGG-16 weights are cached (`filmatlas models
 * pull vgg16`) or FILMATLAS_WEIGHTS names them; the parity fixtures' random weights
 * would give meaningless numbers, so they are not used.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openAtlas, type Atlas } from '../src/atlas/atlas.js';
import { findCachedModel } from '../src/embed/pull.js';
import { embedStills } from '../src/embed/run.js';
import { knn } from '../src/numeric/knn.js';
import { Random } from '../src/numeric/random.js';
import { generateSample } from '../src/sources/sample/index.js';
import { ingestStills } from '../src/sources/ingest.js';
import { openAnnIndex } from '../src/looks/ann.js';
import { readClusters } from '../src/atlas/clusters.js';
import { clusterStills, type ClusterOptions } from '../src/looks/cluster.js';
import { ari, nmi, purity } from '../src/looks/metrics.js';
import { compareSequences } from '../src/looks/sequence.js';
import { rowsByMovie, similarMovies } from '../src/looks/similar.js';
import { LookVectors, stillIndex, type Normalization } from '../src/looks/vectors.js';
import { matrixSource, type RowSource } from '../src/types.js';

const { values } = parseArgs({
  options: {
    movies: { type: 'string', default: '24' },
    stills: { type: 'string', default: '40' },
    seed: { type: 'string', default: '7' },
    big: { type: 'string', default: '50000' },
    hard: { type: 'string', default: '20000' },
    keep: { type: 'boolean', default: false },
  },
});

const fmt = (v: number, d = 3): string => v.toFixed(d);

async function setup(dir: string): Promise<Atlas> {
  const t0 = performance.now();
  await generateSample(join(dir, 'stills'), {
    movies: Number(values.movies),
    stills: Number(values.stills),
    seed: Number(values.seed),
  });
  const atlas = await openAtlas(join(dir, 'atlas'), { create: true });
  await ingestStills(atlas, [join(dir, 'stills')]);
  await embedStills(atlas, { model: 'color' });
  const weights = process.env.FILMATLAS_WEIGHTS ?? findCachedModel('vgg16');
  if (weights) await embedStills(atlas, { model: 'vgg16', weights: process.env.FILMATLAS_WEIGHTS });
  console.log(
    `sample: ${values.movies} movies × ${values.stills} stills (seed ${values.seed}) ingested and embedded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return atlas;
}

async function families(atlas: Atlas): Promise<Map<number, string>> {
  return new Map((await atlas.catalog.movies()).map((m) => [m.id, m.attributes.family ?? '?']));
}

async function moviePrecision(atlas: Atlas, features: string, normalize: Normalization): Promise<number> {
  const fam = await families(atlas);
  let hits = 0,
    total = 0;
  for (const m of await atlas.catalog.movies()) {
    const r = await similarMovies(atlas, {
      features,
      movie: String(m.id),
      k: 5,
      normalize,
      palettes: false,
      pairs: 0,
    });
    for (const o of r.movies) {
      total++;
      if (fam.get(o.movieId) === fam.get(m.id)) hits++;
    }
  }
  return hits / total;
}

async function clusterScores(
  atlas: Atlas,
  features: string,
  options: Partial<ClusterOptions>,
): Promise<string> {
  const r = await clusterStills(atlas, {
    features,
    name: `bench-${options.method ?? 'kmeans'}`,
    palettes: false,
    ...options,
  });
  const stored = readClusters(atlas, r.name);
  const fam = await families(atlas);
  const index = await stillIndex(atlas);
  const pred: (string | number)[] = [];
  const truth: string[] = [];
  const inPred: (string | number)[] = [];
  const inTruth: string[] = [];
  for (const [id, label] of stored.labels) {
    pred.push(label);
    truth.push(fam.get(index.stills.get(id)!.movieId)!);
    if (label !== 'noise') {
      inPred.push(label);
      inTruth.push(truth[truth.length - 1]);
    }
  }
  const clustered = r.noise ? ` (purity of the clustered stills ${fmt(purity(inPred, inTruth))})` : '';
  return `k=${r.k}${r.noise ? ` noise=${r.noise}` : ''}  purity ${fmt(purity(pred, truth))}${clustered}  NMI ${fmt(nmi(pred, truth))}  ARI ${fmt(ari(pred, truth))}  silhouette ${fmt(r.silhouette)}  (${r.seconds.toFixed(1)} s)`;
}

/** A bigger collection: each sample vector repeated with Gaussian noise, as a RowSource of unit rows. */
function bigSet(base: Float32Array, n0: number, d: number, n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const src = rng.int(n0);
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = base[src * d + j] + rng.normal(0, 0.15 / Math.sqrt(d));
      out[i * d + j] = v;
      s += v * v;
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) out[i * d + j] *= inv;
  }
  return out;
}

async function recallAt10(
  atlas: Atlas,
  source: RowSource & { model?: string },
  vectors: LookVectors,
  queries: number,
  seed: number,
): Promise<string> {
  const rng = new Random(seed);
  const q = Array.from({ length: Math.min(queries, source.rows) }, () => rng.int(source.rows));
  const qx = new Float32Array(q.length * source.dim);
  q.forEach((r, i) => qx.set(source.readRows(r, 1), i * source.dim));
  const t0 = performance.now();
  const exact = await knn(source, {
    k: 10,
    metric: 'cosine',
    queries: matrixSource({ data: qx, rows: q.length, cols: source.dim }),
  });
  const exactS = (performance.now() - t0) / 1000;
  // The index is built over `vectors` (whose reader stands for `source`'s rows).
  const index = await openAnnIndex(atlas, vectors, { rebuild: true });
  const t1 = performance.now();
  const approx = index.search(qx, q.length, 10);
  const approxS = (performance.now() - t1) / 1000;
  let hit = 0;
  for (let i = 0; i < q.length; i++) {
    const truth = new Set(Array.from(exact.indices.subarray(i * 10, i * 10 + 10)));
    for (let j = 0; j < 10; j++) if (truth.has(approx.indices[i * 10 + j])) hit++;
  }
  return `n=${source.rows} d=${source.dim}: recall@10 ${fmt(hit / (q.length * 10), 4)} over ${q.length} queries; build ${index.seconds.toFixed(1)} s, ${(q.length / approxS).toFixed(0)} queries/s approx vs ${(q.length / exactS).toFixed(0)} queries/s exact`;
}

async function dtwFigures(atlas: Atlas, features: string): Promise<void> {
  const vectors = LookVectors.open(atlas, features, 'zscore');
  const index = await stillIndex(atlas);
  const byMovie = rowsByMovie(vectors, index);
  const fam = await families(atlas);
  const ids = [...byMovie.keys()];
  const rng = new Random(1);
  const acc = { self: 0, dropped: 0, shifted: 0, family: 0, other: 0 };
  let count = 0;
  const d = vectors.dim;
  for (const id of ids) {
    const rows = byMovie.get(id)!;
    const x = vectors.gather(rows);
    const n = rows.length;
    const keep = rows.map((_, i) => i).filter(() => rng.next() >= 0.25);
    const dropped = vectors.gather(keep.map((i) => rows[i]));
    const shift = Math.max(1, Math.floor(n / 8));
    const shifted = vectors.gather([...rows.slice(shift), ...rows.slice(0, shift)]);
    const same = ids.find((o) => o !== id && fam.get(o) === fam.get(id));
    const other = ids.find((o) => fam.get(o) !== fam.get(id));
    acc.self += (await compareSequences(x, n, x, n, d)).normalized;
    acc.dropped += (await compareSequences(x, n, dropped, keep.length, d)).normalized;
    acc.shifted += (await compareSequences(x, n, shifted, n, d)).normalized;
    if (same !== undefined) {
      const r = byMovie.get(same)!;
      acc.family += (await compareSequences(x, n, vectors.gather(r), r.length, d)).normalized;
    }
    if (other !== undefined) {
      const r = byMovie.get(other)!;
      acc.other += (await compareSequences(x, n, vectors.gather(r), r.length, d)).normalized;
    }
    count++;
  }
  console.log(
    `  DTW normalised distance (${features}, mean over ${count} movies): itself ${fmt(acc.self / count)}, 25% stills dropped ${fmt(acc.dropped / count)}, ` +
      `rotated by 1/8 ${fmt(acc.shifted / count)}, a same-family movie ${fmt(acc.family / count)}, an other-family movie ${fmt(acc.other / count)}`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'filmatlas-bench-looks-'));
try {
  const atlas = await setup(dir);
  const feats = ['color', ...(process.env.FILMATLAS_WEIGHTS || findCachedModel('vgg16') ? ['vgg16'] : [])];
  console.log('\nsimilar movie — precision@5 (hit = same look family):');
  for (const f of feats) {
    for (const norm of ['zscore', 'center', 'none'] as Normalization[]) {
      const t = performance.now();
      const p = await moviePrecision(atlas, f, norm);
      console.log(
        `  ${f.padEnd(6)} normalize=${norm.padEnd(6)} P@5 ${fmt(p)}  (${((performance.now() - t) / 1000).toFixed(1)} s for ${(await atlas.catalog.movies()).length} queries)`,
      );
    }
  }
  if (!feats.includes('vgg16'))
    console.log(
      '  vgg16  n/a: no real VGG-16 weights here (the parity fixtures are random weights, whose figures would mean nothing)',
    );
  const nFam = new Set((await families(atlas)).values()).size;
  console.log('\nclusters vs look families:');
  for (const f of feats) {
    console.log(
      `  ${f} kmeans k=${nFam} (families): ${await clusterScores(atlas, f, { method: 'kmeans', k: nFam })}`,
    );
    console.log(
      `  ${f} kmeans k=auto:       ${await clusterScores(atlas, f, { method: 'kmeans', k: 'auto' })}`,
    );
    console.log(`  ${f} hdbscan (defaults):  ${await clusterScores(atlas, f, { method: 'hdbscan' })}`);
    console.log(
      `  ${f} hdbscan, 10 components: ${await clusterScores(atlas, f, { method: 'hdbscan', components: 10 })}`,
    );
  }
  console.log('\napproximate index (usearch HNSW, connectivity 32, expansion 200/128) vs exact:');
  const vectors = LookVectors.open(atlas, 'color', 'zscore');
  console.log(`  sample ${await recallAt10(atlas, vectors, vectors, 500, 3)}`);
  const big = Number(values.big);
  if (big > 0) {
    const base = vectors.all();
    const data = bigSet(base, vectors.rows, vectors.dim, big, 11);
    const src = matrixSource({ data, rows: big, cols: vectors.dim });
    // Stand the big set in for the atlas's vectors (same dim), so openAnnIndex indexes it.
    const stand = Object.create(vectors) as LookVectors;
    Object.defineProperties(stand, {
      rows: { value: big },
      readRows: { value: (s: number, c: number) => data.subarray(s * vectors.dim, (s + c) * vectors.dim) },
      model: { value: 'bench-big' },
    });
    console.log(`  synthetic, sample vectors + noise: ${await recallAt10(atlas, src, stand, 1000, 5)}`);
  }
  const hard = Number(values.hard);
  if (hard > 0) {
    // No structure at all (i.i.d. Gaussian directions): the hardest case for a graph index.
    const rng = new Random(17);
    const d = vectors.dim;
    const data = new Float32Array(hard * d);
    for (let i = 0; i < hard; i++) {
      let s2 = 0;
      for (let j = 0; j < d; j++) s2 += (data[i * d + j] = rng.normal()) ** 2;
      for (let j = 0; j < d; j++) data[i * d + j] /= Math.sqrt(s2);
    }
    const src = matrixSource({ data, rows: hard, cols: d });
    const stand = Object.create(vectors) as LookVectors;
    Object.defineProperties(stand, {
      rows: { value: hard },
      readRows: { value: (s: number, c: number) => data.subarray(s * d, (s + c) * d) },
      model: { value: 'bench-hard' },
    });
    console.log(`  synthetic, random Gaussian directions: ${await recallAt10(atlas, src, stand, 1000, 6)}`);
  }
  console.log('\nsequences:');
  for (const f of feats) await dtwFigures(atlas, f);
  await atlas.close();
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
