/**
 * HDBSCAN (Campello, Moulavi & Sander 2013; McInnes & Healy's accelerated variant)
 * over rows of a small dense matrix (PCA-reduced features):
 *
 * 1. core distance of each point: the distance to its `minSamples`-th nearest other
 *    point (exact k-NN, numeric/knn.ts);
 * 2. mutual reachability max(core(a), core(b), d(a, b)) on the edges of the k-NN graph;
 * 3. a minimum spanning tree of those edges (Kruskal); pieces the k-NN graph leaves
 *    apart are joined by their closest pair among up to 256 sampled points each (fewer
 *    when there are many pieces; beyond 1,000 pieces they are chained by first coordinate)
 *    (so the tree is exact within what the k-NN graph sees, approximate between
 *    far-apart groups — which only decides how the top of the hierarchy nests);
 * 4. the single-linkage hierarchy, condensed with `minClusterSize`, and the flat
 *    clusters chosen by excess of mass (stability). Points in no chosen cluster are
 *    noise (label −1).
 */
import { throwIfAborted } from '../errors.js';
import { knn } from '../numeric/knn.js';
import { Random } from '../numeric/random.js';
import { matrixSource, type StageOptions } from '../types.js';
import { checkInt, requireInt } from '../validate.js';

export interface HdbscanOptions extends StageOptions {
  /** Smallest group that counts as a cluster; an integer ≥ 2. */
  minClusterSize: number;
  /** Neighbours defining a point's core distance. Default: minClusterSize. */
  minSamples?: number;
  /** Neighbours kept per point for the graph. Default max(minSamples, 15). */
  graphK?: number;
  seed?: number;
  threads?: number;
}

export interface HdbscanResult {
  /** Cluster per point (0…clusters−1), −1 for noise. */
  labels: Int32Array;
  clusters: number;
  noise: number;
  /** Stability (excess of mass) of each chosen cluster. */
  stability: number[];
}

class UnionFind {
  parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(x: number): number {
    while (this.parent[x] !== x) {
      this.parent[x] = this.parent[this.parent[x]];
      x = this.parent[x];
    }
    return x;
  }
}

function dist(x: Float32Array, d: number, i: number, j: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const v = x[i * d + t] - x[j * d + t];
    s += v * v;
  }
  return Math.sqrt(s);
}

export async function hdbscan(
  x: Float32Array,
  n: number,
  d: number,
  options: HdbscanOptions,
): Promise<HdbscanResult> {
  const mcs = requireInt('--min-cluster-size', options.minClusterSize, 2, Infinity);
  const minSamples = options.minSamples ?? mcs;
  checkInt('--min-samples', minSamples, 1, Infinity);
  if (n < 2) return { labels: new Int32Array(n).fill(-1), clusters: 0, noise: n, stability: [] };
  const K = Math.min(n - 1, Math.max(minSamples, options.graphK ?? 15));
  const nn = await knn(matrixSource({ data: x, rows: n, cols: d }), {
    k: K,
    metric: 'euclidean',
    excludeSelf: true,
    threads: options.threads,
    signal: options.signal,
  });
  const core = new Float64Array(n);
  const cs = Math.min(minSamples, K);
  for (let i = 0; i < n; i++) core[i] = nn.distances[i * K + cs - 1];
  // Mutual-reachability edges of the k-NN graph.
  const ea = new Int32Array(n * K);
  const eb = new Int32Array(n * K);
  const ew = new Float64Array(n * K);
  let e = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < K; t++) {
      const j = nn.indices[i * K + t];
      if (j < 0) continue;
      ea[e] = i;
      eb[e] = j;
      ew[e] = Math.max(core[i], core[j], nn.distances[i * K + t]);
      e++;
    }
  }
  throwIfAborted(options.signal);
  const order = Array.from({ length: e }, (_, i) => i).sort((p, q) => ew[p] - ew[q]);
  const uf = new UnionFind(n);
  const mstA: number[] = [];
  const mstB: number[] = [];
  const mstW: number[] = [];
  for (const id of order) {
    const ra = uf.find(ea[id]);
    const rb = uf.find(eb[id]);
    if (ra === rb) continue;
    uf.parent[ra] = rb;
    mstA.push(ea[id]);
    mstB.push(eb[id]);
    mstW.push(ew[id]);
  }
  // Join the pieces the k-NN graph left apart.
  if (mstA.length < n - 1) {
    const groups = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const r = uf.find(i);
      let g = groups.get(r);
      if (!g) groups.set(r, (g = []));
      g.push(i);
    }
    const rng = new Random(options.seed ?? 0);
    const roots = [...groups.keys()];
    const r = roots.length;
    const cand: { a: number; b: number; w: number; ga: number; gb: number }[] = [];
    if (r <= 1000) {
      // Closest pair between every two pieces, over up to `s` sampled points each (s shrinks
      // as pieces multiply, so the work stays near 10⁹ operations).
      const s = Math.max(1, Math.min(256, Math.floor(Math.sqrt(2e9 / (r * r * Math.max(1, d))))));
      const reps = [...groups.values()].map((g) => (g.length <= s ? g : rng.shuffle([...g]).slice(0, s)));
      for (let p = 0; p < r; p++) {
        for (let q = p + 1; q < r; q++) {
          let best = { a: -1, b: -1, w: Infinity };
          for (const i of reps[p]) {
            for (const j of reps[q]) {
              const w = Math.max(core[i], core[j], dist(x, d, i, j));
              if (w < best.w) best = { a: i, b: j, w };
            }
          }
          cand.push({ ...best, ga: roots[p], gb: roots[q] });
        }
      }
    } else {
      // Very many pieces (a graph far too sparse for the data): chain them in order of
      // their first coordinate, each joined to the next through one sampled point each.
      const rep = [...groups.values()].map((g) => g[rng.int(g.length)]);
      const order = rep.map((_, i) => i).sort((p, q) => x[rep[p] * d] - x[rep[q] * d]);
      for (let t = 1; t < order.length; t++) {
        const i = rep[order[t - 1]],
          j = rep[order[t]];
        cand.push({
          a: i,
          b: j,
          w: Math.max(core[i], core[j], dist(x, d, i, j)),
          ga: roots[order[t - 1]],
          gb: roots[order[t]],
        });
      }
    }
    cand.sort((p, q) => p.w - q.w);
    for (const c of cand) {
      const ra = uf.find(c.ga);
      const rb = uf.find(c.gb);
      if (ra === rb) continue;
      uf.parent[ra] = rb;
      mstA.push(c.a);
      mstB.push(c.b);
      mstW.push(c.w);
    }
  }
  return condense(n, mstA, mstB, mstW, mcs);
}

/** Single-linkage hierarchy from MST edges, condensed, with clusters chosen by excess of mass. */
export function condense(
  n: number,
  ea: readonly number[],
  eb: readonly number[],
  ew: readonly number[],
  mcs: number,
): HdbscanResult {
  const m = ea.length; // n − 1
  const order = Array.from({ length: m }, (_, i) => i).sort((p, q) => ew[p] - ew[q]);
  const left = new Int32Array(m);
  const right = new Int32Array(m);
  const height = new Float64Array(m);
  const size = new Int32Array(n + m).fill(1);
  const uf = new UnionFind(n + m);
  const top = Int32Array.from({ length: n + m }, (_, i) => i); // dendrogram node of each union-find root
  order.forEach((id, t) => {
    const ra = uf.find(ea[id]);
    const rb = uf.find(eb[id]);
    const node = n + t;
    left[t] = top[ra];
    right[t] = top[rb];
    height[t] = ew[id];
    size[node] = size[top[ra]] + size[top[rb]];
    uf.parent[ra] = node;
    uf.parent[rb] = node;
    top[node] = node;
  });
  const lambdaOf = (t: number): number => 1 / Math.max(height[t], 1e-12);
  // Condensed tree clusters.
  const parent: number[] = [-1];
  const birth: number[] = [0];
  const stab: number[] = [0];
  const pointCluster = new Int32Array(n).fill(0);
  const leaves = (node: number, out: number[]): void => {
    const stack = [node];
    while (stack.length) {
      const v = stack.pop()!;
      if (v < n) out.push(v);
      else {
        stack.push(left[v - n], right[v - n]);
      }
    }
  };
  const fallOut = (node: number, cluster: number): void => {
    const pts: number[] = [];
    leaves(node, pts);
    for (const p of pts) pointCluster[p] = cluster;
  };
  const root = n + m - 1;
  const work: [number, number][] = m > 0 ? [[root, 0]] : [];
  if (m === 0) pointCluster.fill(0);
  while (work.length) {
    const [node, c] = work.pop()!;
    if (node < n) {
      pointCluster[node] = c;
      continue;
    }
    const t = node - n;
    const lam = lambdaOf(t);
    const L = left[t];
    const R = right[t];
    const sL = size[L];
    const sR = size[R];
    if (sL >= mcs && sR >= mcs) {
      stab[c] += (lam - birth[c]) * (sL + sR);
      for (const child of [L, R]) {
        parent.push(c);
        birth.push(lam);
        stab.push(0);
        work.push([child, parent.length - 1]);
      }
    } else if (sL >= mcs) {
      stab[c] += (lam - birth[c]) * sR;
      fallOut(R, c);
      work.push([L, c]);
    } else if (sR >= mcs) {
      stab[c] += (lam - birth[c]) * sL;
      fallOut(L, c);
      work.push([R, c]);
    } else {
      stab[c] += (lam - birth[c]) * (sL + sR);
      fallOut(node, c);
    }
  }
  // Excess of mass: bottom-up (children were created after their parents).
  const C = parent.length;
  const children: number[][] = Array.from({ length: C }, () => []);
  for (let c = 1; c < C; c++) children[parent[c]].push(c);
  const best = new Float64Array(C);
  const selected = new Uint8Array(C);
  for (let c = C - 1; c >= 0; c--) {
    if (children[c].length === 0) {
      selected[c] = 1;
      best[c] = stab[c];
      continue;
    }
    const sum = children[c].reduce((a, ch) => a + best[ch], 0);
    if (c !== 0 && stab[c] >= sum) {
      selected[c] = 1;
      best[c] = stab[c];
    } else best[c] = sum;
  }
  // A selected cluster owns its whole subtree.
  for (let c = 1; c < C; c++) {
    let a = parent[c];
    while (a >= 0) {
      if (selected[a]) {
        selected[c] = 0;
        break;
      }
      a = parent[a];
    }
  }
  const label = new Int32Array(C).fill(-1);
  const stability: number[] = [];
  let next = 0;
  for (let c = 0; c < C; c++) {
    if (selected[c]) {
      label[c] = next++;
      stability.push(stab[c]);
    }
  }
  const labels = new Int32Array(n);
  let noise = 0;
  for (let p = 0; p < n; p++) {
    let c = pointCluster[p];
    while (c >= 0 && label[c] < 0) c = parent[c];
    labels[p] = c >= 0 ? label[c] : -1;
    if (labels[p] < 0) noise++;
  }
  return { labels, clusters: next, noise, stability };
}
