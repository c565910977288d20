import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AtlasError } from '../../src/errors.js';
import { Random } from '../../src/numeric/random.js';
import { condense, hdbscan } from '../../src/looks/hdbscan.js';
import { kmeans, pairwiseDistances, silhouette } from '../../src/looks/kmeans.js';
import { ari, nmi, purity } from '../../src/looks/metrics.js';

/** `per` points around each centre (Gaussian, sd `sd`), then `noise` uniform points in a big box. */
function blobs(
  centres: number[][],
  per: number,
  sd: number,
  noise = 0,
  seed = 1,
): { x: Float32Array; n: number; d: number; truth: number[] } {
  const rng = new Random(seed);
  const d = centres[0].length;
  const n = centres.length * per + noise;
  const x = new Float32Array(n * d);
  const truth: number[] = [];
  let i = 0;
  centres.forEach((c, ci) => {
    for (let p = 0; p < per; p++, i++) {
      for (let j = 0; j < d; j++) x[i * d + j] = c[j] + rng.normal(0, sd);
      truth.push(ci);
    }
  });
  for (let p = 0; p < noise; p++, i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rng.range(-40, 40);
    truth.push(-1);
  }
  return { x, n, d, truth };
}

const CENTRES = [
  [0, 0, 0],
  [10, 0, 0],
  [0, 10, 5],
];

test('k-means++ recovers separated blobs, is seed-deterministic and honours weights', () => {
  const { x, n, d, truth } = blobs(CENTRES, 60, 1);
  const r = kmeans(x, n, d, { k: 3, seed: 4 });
  assert.equal(r.k, 3);
  assert.equal(purity(Array.from(r.labels), truth), 1);
  assert.equal(ari(Array.from(r.labels), truth), 1);
  assert.deepEqual(Array.from(kmeans(x, n, d, { k: 3, seed: 4 }).labels), Array.from(r.labels));
  // Weighted: one heavy point pulls its 1-cluster centroid onto itself.
  const w = kmeans(new Float32Array([0, 1, 2]), 3, 1, { k: 1, weights: new Float64Array([0, 0, 5]) });
  assert.ok(Math.abs(w.centroids[0] - 2) < 1e-6);
  // Duplicates: fewer clusters than asked, never empty ones.
  const dup = kmeans(new Float32Array([1, 1, 1, 1]), 4, 1, { k: 3 });
  assert.equal(dup.k, 1);
  assert.throws(() => kmeans(x, n, d, { k: 0 }), AtlasError);
});

test('silhouette prefers the true k on blobs', () => {
  const { x, n, d } = blobs(CENTRES, 40, 1, 0, 2);
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const dist = pairwiseDistances(x, d, rows);
  const scores = [2, 3, 4, 5].map((k) =>
    silhouette(dist, kmeans(x, n, d, { k, seed: 1, restarts: 3 }).labels, k),
  );
  assert.equal(scores.indexOf(Math.max(...scores)) + 2, 3, `silhouettes ${scores}`);
  assert.ok(scores[1] > 0.7);
});

test('purity, NMI and ARI on known partitions', () => {
  const truth = ['a', 'a', 'a', 'b', 'b', 'b'];
  assert.equal(purity([1, 1, 1, 2, 2, 2], truth), 1);
  assert.equal(nmi([1, 1, 1, 2, 2, 2], truth), 1);
  assert.equal(ari([1, 1, 1, 2, 2, 2], truth), 1);
  assert.ok(Math.abs(purity([1, 1, 2, 2, 2, 2], truth) - 5 / 6) < 1e-12);
  // sklearn: adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 0.5714…; NMI (arithmetic) = 0.8
  assert.ok(Math.abs(ari([0, 0, 1, 2], [0, 0, 1, 1]) - 0.5714285714) < 1e-9);
  assert.ok(Math.abs(nmi([0, 0, 1, 2], [0, 0, 1, 1]) - 0.8) < 1e-9);
  // All in one cluster: chance-level ARI, zero NMI.
  assert.ok(Math.abs(ari([0, 0, 0, 0, 0, 0], truth)) < 1e-12);
  assert.equal(nmi([0, 0, 0, 0, 0, 0], truth), 0);
});

test('HDBSCAN finds dense blobs of different sizes and leaves scattered points as noise', async () => {
  const a = blobs([[0, 0]], 80, 0.5, 0, 3);
  const b = blobs([[12, 0]], 40, 0.5, 0, 4);
  const c = blobs([[0, 12]], 25, 0.5, 0, 5);
  const noise = blobs([[0, 0]], 0, 1, 15, 6);
  const n = 80 + 40 + 25 + 15;
  const x = new Float32Array(n * 2);
  x.set(a.x, 0);
  x.set(b.x, 160);
  x.set(c.x, 240);
  x.set(noise.x, 290);
  const truth = [...Array(80).fill(0), ...Array(40).fill(1), ...Array(25).fill(2), ...Array(15).fill(-1)];
  const r = await hdbscan(x, n, 2, { minClusterSize: 10, minSamples: 5 });
  assert.equal(r.clusters, 3);
  const clustered = Array.from(r.labels.subarray(0, 145));
  assert.equal(purity(clustered, truth.slice(0, 145)), 1);
  assert.ok(clustered.filter((l) => l < 0).length <= 8, 'few blob points called noise');
  const noiseLabels = Array.from(r.labels.subarray(145));
  assert.ok(noiseLabels.filter((l) => l < 0).length >= 10, `scattered points mostly noise: ${noiseLabels}`);
  await assert.rejects(hdbscan(x, n, 2, { minClusterSize: 1 }), AtlasError);
});

test('condensed tree: two tight pairs of groups joined late select the two groups', () => {
  // Points 0–4 at mutual distance 1, 5–9 at distance 1, the groups joined at distance 10.
  const edges: [number, number, number][] = [
    [0, 1, 1],
    [0, 2, 1],
    [0, 3, 1],
    [0, 4, 1],
    [5, 6, 1],
    [5, 7, 1],
    [5, 8, 1],
    [5, 9, 1],
    [0, 5, 10],
  ];
  const ea = edges.map((e) => e[0]),
    eb = edges.map((e) => e[1]),
    ew = edges.map((e) => e[2]);
  const r = condense(10, ea, eb, ew, 3);
  assert.equal(r.clusters, 2);
  assert.equal(r.noise, 0);
  assert.equal(new Set(Array.from(r.labels.subarray(0, 5))).size, 1);
  assert.notEqual(r.labels[0], r.labels[5]);
});
