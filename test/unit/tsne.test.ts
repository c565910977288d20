import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AtlasError } from '../../src/errors.js';
import { affinities, exactRepulsion, FftRepulsion, tsne } from '../../src/layout/tsne.js';
import { knn } from '../../src/numeric/knn.js';
import { releaseMatmulSessions } from '../../src/numeric/matmul.js';
import { Random } from '../../src/numeric/random.js';
import { matrixSource } from '../../src/types.js';
import { clusters, labelAgreement } from './reduce-fixtures.js';

after(() => releaseMatmulSessions());

test('FFT-interpolated repulsion and Z agree with the exact sums', () => {
  const rng = new Random(11);
  for (const scale of [1e-4, 3, 15]) {
    const n = 600;
    const y = Float64Array.from({ length: 2 * n }, () => rng.normal(0, scale));
    const exact = new Float64Array(2 * n);
    const approx = new Float64Array(2 * n);
    const z0 = exactRepulsion(y, n, exact);
    const z1 = new FftRepulsion().compute(y, n, approx);
    assert.ok(Math.abs(z1 - z0) / z0 < 5e-3, `scale ${scale}: Z ${z1} vs ${z0}`);
    let err = 0;
    let ref = 0;
    for (let i = 0; i < 2 * n; i++) {
      err += (approx[i] - exact[i]) ** 2;
      ref += exact[i] ** 2;
    }
    assert.ok(Math.sqrt(err / ref) < 5e-2, `scale ${scale}: relative force error ${Math.sqrt(err / ref)}`);
  }
});

test('affinities: P is symmetric and sums to 1', async () => {
  const { x } = clusters(3, 120, 10, 5);
  const k = 30;
  const nn = await knn(matrixSource(x), { k, excludeSelf: true });
  const P = affinities(x.rows, k, nn.indices, nn.distances, 10);
  let total = 0;
  const dense = new Map<string, number>();
  for (let i = 0; i < P.n; i++)
    for (let e = P.rowPtr[i]; e < P.rowPtr[i + 1]; e++) {
      total += P.vals[e];
      dense.set(`${i},${P.cols[e]}`, P.vals[e]);
    }
  assert.ok(Math.abs(total - 1) < 1e-9, `sum ${total}`);
  for (const [key, v] of dense) {
    const [i, j] = key.split(',');
    assert.ok(Math.abs((dense.get(`${j},${i}`) ?? -1) - v) < 1e-15, `P[${key}] not symmetric`);
  }
});

function spreadOk(y: Float32Array): void {
  for (let i = 0; i < y.length; i++) assert.ok(Number.isFinite(y[i]), `y[${i}] = ${y[i]}`);
}

test('well-separated clusters stay apart in 2-D, and a seed gives the same map', async () => {
  const { x, labels } = clusters(21, 80, 50, 5);
  const events: number[] = [];
  const opts = {
    perplexity: 20,
    iterations: 400,
    seed: 3,
    onProgress: (e: { stage: string; done: number }) => e.stage === 'tsne' && events.push(e.done),
  };
  const y = await tsne(x, opts);
  assert.equal(y.length, 2 * x.rows);
  spreadOk(y);
  const agreement = labelAgreement(y, labels, 10);
  assert.ok(agreement > 0.9, `kNN label agreement ${agreement}`);
  assert.deepEqual(events.slice(-1), [400]);
  const again = await tsne(x, { ...opts, onProgress: undefined });
  assert.deepEqual(again, y);
  // A precomputed (longer) k-NN gives the same map as the one computed inside.
  const pre = await knn(matrixSource(x), { k: 70, excludeSelf: true });
  assert.deepEqual(await tsne(x, { ...opts, onProgress: undefined, knn: pre }), y);
  const random = await tsne(x, { perplexity: 20, iterations: 300, seed: 4, init: 'random' });
  assert.ok(labelAgreement(random, labels, 10) > 0.9);
});

test('the FFT path separates clusters too', async () => {
  const { x, labels } = clusters(22, 50, 50, 4);
  const y = await tsne(x, { perplexity: 15, iterations: 100, exaggerationIterations: 50, repulsion: 'fft' });
  spreadOk(y);
  const agreement = labelAgreement(y, labels, 10);
  assert.ok(agreement > 0.9, `kNN label agreement ${agreement}`);
});

test('bad input is rejected naming the value; abort stops it', async () => {
  const { x } = clusters(23, 10, 8, 2);
  await assert.rejects(
    () => tsne(x, { perplexity: 30 }),
    (e: unknown) =>
      e instanceof AtlasError && e.value === '30' && /perplexity 30 needs 90 neighbours/.test(e.message),
  );
  await assert.rejects(
    () => tsne(x, { perplexity: -1 }),
    (e: unknown) => e instanceof AtlasError && e.value === '-1',
  );
  await assert.rejects(
    () => tsne(x, { perplexity: 3, iterations: 0 }),
    (e: unknown) => e instanceof AtlasError && /iterations/.test(e.message),
  );
  const bad = { ...x, data: x.data.slice() };
  bad.data[5 * x.cols + 2] = Number.NaN;
  await assert.rejects(
    () => tsne(bad, { perplexity: 3 }),
    (e: unknown) => e instanceof AtlasError && /row 5 column 2 is NaN/.test(e.message),
  );
  const ac = new AbortController();
  let seen = 0;
  await assert.rejects(
    () =>
      tsne(x, {
        perplexity: 3,
        iterations: 1000,
        signal: ac.signal,
        onProgress: (e) => {
          if (e.stage === 'tsne' && ++seen === 5) ac.abort();
        },
      }),
    (e: unknown) => e instanceof AtlasError && e.code === 'ABORTED',
  );
  assert.equal(seen, 5);
});
