/**
 * Earth mover's distance between two small weighted colour sets (palettes): the
 * least total work — share moved × ΔE in CIELAB — that turns one palette into the
 * other. Solved exactly as a min-cost flow by successive shortest paths (Bellman–Ford
 * on the residual graph), which for palettes of a few colours a side is microseconds.
 */

export interface EmdResult {
  /** Mean colour difference moved: Σ flow·cost with both sides' weights normalised to 1. */
  distance: number;
  /** n × m flow plan, row-major: how much of a's colour i goes to b's colour j. */
  flow: Float64Array;
}

const EPS = 1e-12;

/**
 * EMD between weights `a` (n) and `b` (m) with ground costs `cost` (n × m, row-major).
 * Weights are normalised to sum 1 each; a side whose weights are all 0 gives distance 0.
 */
export function emd(a: ArrayLike<number>, b: ArrayLike<number>, cost: ArrayLike<number>): EmdResult {
  const n = a.length;
  const m = b.length;
  const flow = new Float64Array(n * m);
  let sa = 0,
    sb = 0;
  for (let i = 0; i < n; i++) sa += Math.max(0, a[i]);
  for (let j = 0; j < m; j++) sb += Math.max(0, b[j]);
  if (!(sa > 0) || !(sb > 0)) return { distance: 0, flow };
  const supply = Float64Array.from({ length: n }, (_, i) => Math.max(0, a[i]) / sa);
  const demand = Float64Array.from({ length: m }, (_, j) => Math.max(0, b[j]) / sb);
  // Node numbering: supply i → i, demand j → n + j.
  const dist = new Float64Array(n + m);
  const pred = new Int32Array(n + m);
  let left = 1;
  for (let guard = 0; left > 1e-9 && guard < 4 * (n + m) * (n + m) + 16; guard++) {
    dist.fill(Infinity);
    pred.fill(-1);
    for (let i = 0; i < n; i++) if (supply[i] > EPS) dist[i] = 0;
    // Bellman–Ford: edges i→j (cost c), and j→i (cost −c) where flow can be taken back.
    for (let round = 0; round < n + m; round++) {
      let changed = false;
      for (let i = 0; i < n; i++) {
        const di = dist[i];
        if (di === Infinity) continue;
        for (let j = 0; j < m; j++) {
          const d = di + cost[i * m + j];
          if (d < dist[n + j] - 1e-12) {
            dist[n + j] = d;
            pred[n + j] = i;
            changed = true;
          }
        }
      }
      for (let j = 0; j < m; j++) {
        const dj = dist[n + j];
        if (dj === Infinity) continue;
        for (let i = 0; i < n; i++) {
          if (flow[i * m + j] <= EPS) continue;
          const d = dj - cost[i * m + j];
          if (d < dist[i] - 1e-12) {
            dist[i] = d;
            pred[i] = n + j;
            changed = true;
          }
        }
      }
      if (!changed) break;
    }
    let target = -1;
    for (let j = 0; j < m; j++)
      if (demand[j] > EPS && dist[n + j] < Infinity && (target < 0 || dist[n + j] < dist[n + target]))
        target = j;
    if (target < 0) break;
    // Walk back to the source supply node, finding the bottleneck.
    let amount = demand[target];
    let v = n + target;
    let guardWalk = 0;
    while (pred[v] >= 0 && guardWalk++ < n + m + 1) {
      const u = pred[v];
      if (u >= n) amount = Math.min(amount, flow[v * m + (u - n)]); // v is a supply node, taken back from u
      v = u;
    }
    amount = Math.min(amount, supply[v]);
    if (!(amount > EPS)) break;
    supply[v] -= amount;
    demand[target] -= amount;
    v = n + target;
    guardWalk = 0;
    while (pred[v] >= 0 && guardWalk++ < n + m + 1) {
      const u = pred[v];
      if (u < n) flow[u * m + (v - n)] += amount;
      else flow[v * m + (u - n)] -= amount;
      v = u;
    }
    left -= amount;
  }
  let distance = 0;
  for (let i = 0; i < n * m; i++) distance += flow[i] * cost[i];
  return { distance, flow };
}
