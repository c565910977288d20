/** Shared fixtures for the t-SNE and UMAP tests: seeded Gaussian clusters and a 2-D neighbourhood check. */
import { Random } from '../../src/numeric/random.js';
import type { Matrix } from '../../src/types.js';

/** `count` clusters of `size` points in `dim`-D: centres 10 apart on the axes, unit noise. Rows interleave clusters. */
export function clusters(
  seed: number,
  size: number,
  dim: number,
  count: number,
): { x: Matrix; labels: Int32Array } {
  const rng = new Random(seed);
  const n = size * count;
  const data = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % count;
    labels[i] = c;
    for (let j = 0; j < dim; j++) data[i * dim + j] = (j === c ? 10 : 0) + rng.normal();
  }
  return { x: { data, rows: n, cols: dim }, labels };
}

/** Mean share of each point's k nearest 2-D neighbours that carry its label (brute force). */
export function labelAgreement(y: Float32Array, labels: Int32Array, k: number): number {
  const n = labels.length;
  let total = 0;
  const d = new Float64Array(n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      d[j] = (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2;
      order[j] = j;
    }
    d[i] = Infinity;
    const sorted = Array.from(order).sort((a, b) => d[a] - d[b] || a - b);
    let same = 0;
    for (let t = 0; t < k; t++) if (labels[sorted[t]] === labels[i]) same++;
    total += same / k;
  }
  return total / n;
}
