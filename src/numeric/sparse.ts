/**
 * Both directions of a k-NN graph as compressed rows: row i lists (j, w) for each of its
 * own k neighbours j and (j', w') for every j' that has i among its neighbours, so a
 * symmetrisation (t-SNE's (p + pᵀ)/2n, UMAP's fuzzy union a + b − ab) can merge each
 * row's duplicate columns in one pass. Entries of row i are [start[i], start[i+1]).
 */
export interface BothWays {
  start: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/** `indices` and `weights` are n × k row-major (weight of i → indices[i·k + t]). */
export function bothWays(indices: Int32Array, weights: ArrayLike<number>, n: number, k: number): BothWays {
  const count = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    count[i] += k;
    for (let t = 0; t < k; t++) count[indices[i * k + t]] += 1;
  }
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) start[i + 1] = start[i] + count[i];
  const fill = start.slice(0, n);
  const cols = new Int32Array(start[n]);
  const vals = new Float64Array(start[n]);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t];
      const v = weights[i * k + t];
      cols[fill[i]] = j;
      vals[fill[i]++] = v;
      cols[fill[j]] = i;
      vals[fill[j]++] = v;
    }
  return { start, cols, vals };
}
