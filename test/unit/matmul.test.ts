import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { matmul, releaseMatmulSessions } from '../../src/numeric/matmul.js';
import { Random } from '../../src/numeric/random.js';

after(() => releaseMatmulSessions());

function naive(
  a: Float32Array,
  m: number,
  k: number,
  b: Float32Array,
  n: number,
  transB: boolean,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

test('A·B and A·Bᵀ on ONNX Runtime agree with a float64 loop', async () => {
  const rng = new Random(3);
  const [m, k, n] = [37, 61, 23];
  const a = Float32Array.from({ length: m * k }, () => rng.next() - 0.5);
  const b = Float32Array.from({ length: k * n }, () => rng.next() - 0.5);
  for (const form of ['nn', 'nt'] as const) {
    const c = await matmul(form, a, m, k, b, n);
    const ref = naive(a, m, k, b, n, form === 'nt');
    assert.equal(c.length, m * n);
    for (let i = 0; i < c.length; i++)
      assert.ok(Math.abs(c[i] - ref[i]) < 1e-4, `${form} [${i}] ${c[i]} vs ${ref[i]}`);
  }
});

test('shapes are checked and empty products are empty', async () => {
  await assert.rejects(
    () => matmul('nn', new Float32Array(5), 2, 3, new Float32Array(6), 2),
    /A holds 5 floats, fewer than 2×3/,
  );
  assert.equal((await matmul('nn', new Float32Array(0), 0, 3, new Float32Array(6), 2)).length, 0);
});
