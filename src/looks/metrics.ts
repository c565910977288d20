/**
 * Agreement between a clustering and known classes (the sample's look families):
 * purity, normalised mutual information and the adjusted Rand index. Labels are any
 * strings or numbers; noise (null) is its own cluster.
 */

type Label = string | number | null;

function contingency(
  pred: readonly Label[],
  truth: readonly Label[],
): { table: Map<string, Map<string, number>>; n: number } {
  if (pred.length !== truth.length)
    throw new RangeError(`${pred.length} predicted labels but ${truth.length} true ones`);
  const table = new Map<string, Map<string, number>>();
  for (let i = 0; i < pred.length; i++) {
    const p = String(pred[i]);
    const t = String(truth[i]);
    let row = table.get(p);
    if (!row) table.set(p, (row = new Map()));
    row.set(t, (row.get(t) ?? 0) + 1);
  }
  return { table, n: pred.length };
}

/** Fraction of items in their cluster's majority class (1 = every cluster pure). */
export function purity(pred: readonly Label[], truth: readonly Label[]): number {
  const { table, n } = contingency(pred, truth);
  let s = 0;
  for (const row of table.values()) s += Math.max(...row.values());
  return n ? s / n : 0;
}

function entropy(counts: Iterable<number>, n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

/** Normalised mutual information, arithmetic-mean normalisation (sklearn's default); 1 = identical partitions. */
export function nmi(pred: readonly Label[], truth: readonly Label[]): number {
  const { table, n } = contingency(pred, truth);
  if (n === 0) return 0;
  const colTotals = new Map<string, number>();
  const rowTotals: number[] = [];
  for (const row of table.values()) {
    let r = 0;
    for (const [t, c] of row) {
      colTotals.set(t, (colTotals.get(t) ?? 0) + c);
      r += c;
    }
    rowTotals.push(r);
  }
  let mi = 0;
  let ri = 0;
  for (const row of table.values()) {
    const a = rowTotals[ri++];
    for (const [t, c] of row) mi += (c / n) * Math.log((n * c) / (a * colTotals.get(t)!));
  }
  const hp = entropy(rowTotals, n);
  const ht = entropy(colTotals.values(), n);
  if (hp === 0 && ht === 0) return 1;
  const denom = (hp + ht) / 2;
  return denom > 0 ? Math.max(0, mi / denom) : 0;
}

const pairs = (x: number): number => (x * (x - 1)) / 2;

/** Adjusted Rand index: 1 = identical partitions, ~0 = chance agreement. */
export function ari(pred: readonly Label[], truth: readonly Label[]): number {
  const { table, n } = contingency(pred, truth);
  if (n < 2) return 1;
  let sumCells = 0;
  const colTotals = new Map<string, number>();
  let sumRows = 0;
  for (const row of table.values()) {
    let r = 0;
    for (const [t, c] of row) {
      sumCells += pairs(c);
      colTotals.set(t, (colTotals.get(t) ?? 0) + c);
      r += c;
    }
    sumRows += pairs(r);
  }
  let sumCols = 0;
  for (const c of colTotals.values()) sumCols += pairs(c);
  const expected = (sumRows * sumCols) / pairs(n);
  const max = (sumRows + sumCols) / 2;
  return max === expected ? 1 : (sumCells - expected) / (max - expected);
}
