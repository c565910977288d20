import assert from 'node:assert/strict';
import { test } from 'node:test';
import { releaseMatmulSessions } from '../../src/numeric/matmul.js';
import { Random } from '../../src/numeric/random.js';
import { compareSequences, cosineCost, dtw, rhythm } from '../../src/looks/sequence.js';

/** n unit vectors in d dimensions. */
function unitRows(n: number, d: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (x[i * d + j] = rng.normal()) ** 2;
    for (let j = 0; j < d; j++) x[i * d + j] /= Math.sqrt(s);
  }
  return x;
}

test('DTW on a hand-checked 1-D example: cost, path and normalisation', () => {
  const a = [0, 1, 2];
  const b = [0, 0, 1, 2, 2];
  const cost = new Float64Array(a.length * b.length);
  a.forEach((u, i) => b.forEach((v, j) => (cost[i * b.length + j] = Math.abs(u - v))));
  const r = dtw(cost, 3, 5);
  assert.equal(r.total, 0);
  assert.deepEqual(r.path[0], [0, 0]);
  assert.deepEqual(r.path[r.path.length - 1], [2, 4]);
  // Monotone, unit steps.
  for (let t = 1; t < r.path.length; t++) {
    const di = r.path[t][0] - r.path[t - 1][0],
      dj = r.path[t][1] - r.path[t - 1][1];
    assert.ok(di >= 0 && dj >= 0 && di <= 1 && dj <= 1 && di + dj > 0);
  }
  const shifted = dtw(
    Float64Array.from(cost, (c) => c + 1),
    3,
    5,
  );
  assert.equal(shifted.normalized, 1);
  assert.throws(() => dtw([], 0, 3), RangeError);
});

test('a sequence matches itself at distance 0, with dropped stills nearly so, and an unrelated one far away', async () => {
  const d = 32;
  const x = unitRows(30, d, 1);
  const y = unitRows(30, d, 2);
  assert.ok((await compareSequences(x, 30, x, 30, d)).normalized < 1e-5);
  const keep = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 4 !== 1);
  const dropped = new Float32Array(keep.length * d);
  keep.forEach((r, i) => dropped.set(x.subarray(r * d, r * d + d), i * d));
  const self = await compareSequences(x, 30, dropped, keep.length, d);
  const other = await compareSequences(x, 30, y, 30, d);
  assert.ok(self.normalized < 0.35 * other.normalized, `${self.normalized} vs ${other.normalized}`);
  // Each kept still aligns with itself.
  assert.ok(self.path.filter(([i, j]) => keep[j] === i).length === keep.length);
  // A band that forbids the needed warping costs more.
  const cost = await cosineCost(x, 30, dropped, keep.length, d);
  assert.ok(dtw(cost, 30, keep.length, 0.01).normalized >= self.normalized);
  await releaseMatmulSessions();
});

test('rhythm is the distance between consecutive stills', () => {
  const x = new Float32Array([1, 0, 1, 0, 0, 1, -1, 0]);
  assert.deepEqual(
    rhythm(x, 4, 2).map((v) => Math.round(v * 1e6) / 1e6),
    [0, 1, 1],
  );
});
