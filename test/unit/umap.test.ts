import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AtlasError } from '../../src/errors.js';
import { UMAP } from 'umap-js';
import { fuzzySimplicialSet, umap } from '../../src/layout/umap.js';
import { knn } from '../../src/numeric/knn.js';
import { releaseMatmulSessions } from '../../src/numeric/matmul.js';
import { matrixSource } from '../../src/types.js';
import { clusters, labelAgreement } from './reduce-fixtures.js';

after(() => releaseMatmulSessions());

test('well-separated clusters stay apart in 2-D, and a seed gives the same map', async () => {
  const { x, labels } = clusters(31, 60, 50, 5);
  let last = 0;
  const y = await umap(x, {
    neighbors: 10,
    epochs: 200,
    seed: 5,
    onProgress: (e) => e.stage === 'umap' && (last = e.done),
  });
  assert.equal(y.length, 2 * x.rows);
  for (let i = 0; i < y.length; i++) assert.ok(Number.isFinite(y[i]), `y[${i}] = ${y[i]}`);
  const agreement = labelAgreement(y, labels, 10);
  assert.ok(agreement > 0.9, `kNN label agreement ${agreement}`);
  assert.equal(last, 200);
  assert.deepEqual(await umap(x, { neighbors: 10, epochs: 200, seed: 5 }), y);
  const other = await umap(x, { neighbors: 10, epochs: 200, seed: 6 });
  assert.notDeepEqual(other, y);
  // A precomputed (longer) k-NN gives the same map as the one computed inside.
  const pre = await knn(matrixSource(x), { k: 20, excludeSelf: true });
  assert.deepEqual(await umap(x, { neighbors: 10, epochs: 200, seed: 5, knn: pre }), y);
  await assert.rejects(
    () => umap(x, { neighbors: 30, knn: pre }),
    (e: unknown) =>
      e instanceof AtlasError && /300 rows × 20 neighbours but 300 rows × at least 29/.test(e.message),
  );
  const random = await umap(x, { neighbors: 10, epochs: 200, seed: 6, init: 'random' });
  assert.ok(labelAgreement(random, labels, 10) > 0.9);
});

test("the fuzzy simplicial set equals umap-js's on the same neighbours", async () => {
  const { x } = clusters(33, 40, 12, 5);
  const n = x.rows;
  const k = 9;
  const nn = await knn(matrixSource(x), { k, excludeSelf: true });
  const ours = fuzzySimplicialSet(n, k, nn.indices, nn.distances);
  // umap-js's input: each row itself first, at distance 0.
  const indices = Array.from({ length: n }, (_, i) => [i, ...nn.indices.subarray(i * k, i * k + k)]);
  const distances = Array.from({ length: n }, (_, i) => [0, ...nn.distances.subarray(i * k, i * k + k)]);
  const model = new UMAP({ nNeighbors: k + 1, nEpochs: 1, random: () => 0.5 });
  model.setPrecomputedKNN(indices, distances);
  model.initializeFit(Array.from({ length: n }, () => [0]));
  const theirs = (
    model as unknown as { graph: { getAll(): { row: number; col: number; value: number }[] } }
  ).graph.getAll();
  const want = new Map<string, number>();
  for (const { row, col, value } of theirs) if (value > 0) want.set(`${row},${col}`, value);
  let count = 0;
  for (let i = 0; i < n; i++)
    for (let e = ours.rowPtr[i]; e < ours.rowPtr[i + 1]; e++) {
      const key = `${i},${ours.cols[e]}`;
      const v = want.get(key);
      assert.ok(
        v !== undefined && Math.abs(v - ours.vals[e]) < 1e-9,
        `w[${key}] = ${ours.vals[e]}, umap-js ${v}`,
      );
      count++;
    }
  assert.equal(count, want.size);
});

test('bad input is rejected naming the value; abort stops it', async () => {
  const { x } = clusters(32, 6, 8, 2);
  await assert.rejects(
    () => umap(x, { neighbors: 12 }),
    (e: unknown) =>
      e instanceof AtlasError &&
      e.value === '12' &&
      /neighbors = 12 needs more than 12 points but there are 12/.test(e.message),
  );
  await assert.rejects(
    () => umap(x, { neighbors: 1 }),
    (e: unknown) => e instanceof AtlasError && e.value === '1',
  );
  await assert.rejects(
    () => umap(x, { neighbors: 3, minDist: 2 }),
    (e: unknown) => e instanceof AtlasError && /minDist/.test(e.message),
  );
  const bad = { ...x, data: x.data.slice() };
  bad.data[4 * x.cols] = Number.POSITIVE_INFINITY;
  await assert.rejects(
    () => umap(bad, { neighbors: 3 }),
    (e: unknown) => e instanceof AtlasError && /row 4 column 0 is Infinity/.test(e.message),
  );
  const ac = new AbortController();
  let seen = 0;
  await assert.rejects(
    () =>
      umap(x, {
        neighbors: 3,
        epochs: 500,
        signal: ac.signal,
        onProgress: (e) => {
          if (e.stage === 'umap' && e.done > 0 && ++seen === 3) ac.abort();
        },
      }),
    (e: unknown) => e instanceof AtlasError && e.code === 'ABORTED',
  );
  assert.equal(seen, 3);
});
