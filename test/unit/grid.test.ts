import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AtlasError } from '../../src/errors.js';
import {
  assignGrid,
  chooseShape,
  GRIDS,
  nearSquareShape,
  parseShape,
  rectArrangements,
} from '../../src/layout/grid.js';
import { LapSolver } from '../../src/layout/grid-lap.js';
import { gridQuality } from '../../src/layout/quality.js';
import { Random } from '../../src/numeric/random.js';

/** Clustered 2-D points like a PCA of image features: a Zipf-sized mixture of blobs. */
function clustered(n: number, seed: number): Float64Array {
  const rng = new Random(seed);
  const centres = 40;
  const cx = Float64Array.from({ length: centres }, () => rng.normal() * 4);
  const cy = Float64Array.from({ length: centres }, () => rng.normal() * 3);
  const w = Float64Array.from({ length: centres }, (_, k) => 1 / (k + 1) ** 0.8);
  const total = w.reduce((a, b) => a + b, 0);
  const xy = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    let r = rng.next() * total,
      k = 0;
    while (r > w[k] && k < centres - 1) r -= w[k++];
    xy[2 * i] = cx[k] + rng.normal();
    xy[2 * i + 1] = cy[k] + rng.normal();
  }
  return xy;
}

/** Every point in its own cell inside the shape. */
function assertBijection(xy: Int32Array, n: number, cols: number, rows: number): void {
  assert.equal(xy.length, 2 * n);
  const seen = new Uint8Array(cols * rows);
  for (let i = 0; i < n; i++) {
    const c = xy[2 * i],
      r = xy[2 * i + 1];
    assert.ok(c >= 0 && c < cols && r >= 0 && r < rows, `point ${i} at (${c}, ${r}) outside ${cols}x${rows}`);
    assert.equal(seen[r * cols + c], 0, `cell (${c}, ${r}) taken twice (point ${i})`);
    seen[r * cols + c] = 1;
  }
}

/** The baseline: sort by y into rows, each row by x. */
function naiveSort(xy: Float64Array, n: number, cols: number): Int32Array {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => xy[2 * a + 1] - xy[2 * b + 1] || a - b);
  const out = new Int32Array(2 * n);
  for (let r = 0; r * cols < n; r++) {
    const row = order.slice(r * cols, (r + 1) * cols).sort((a, b) => xy[2 * a] - xy[2 * b] || a - b);
    row.forEach((p, c) => {
      out[2 * p] = c;
      out[2 * p + 1] = r;
    });
  }
  return out;
}

test("rectArrangements: RasterFairy's arrangements, most square first", () => {
  assert.deepEqual(rectArrangements(132617), [
    [269, 493],
    [29, 4573],
    [17, 7801],
    [1, 132617],
  ]);
  assert.deepEqual(rectArrangements(12), [
    [3, 4],
    [2, 6],
    [1, 12],
  ]);
  assert.deepEqual(rectArrangements(10000)[0], [100, 100]);
  assert.deepEqual(rectArrangements(7), [[1, 7]]);
  assert.deepEqual(rectArrangements(1), [[1, 1]]);
  assert.throws(() => rectArrangements(0), /positive integer for n but got 0/);
});

test('chooseShape: exact when square enough, near-square with a few empty cells for awkward n, given shapes checked', () => {
  assert.deepEqual(chooseShape(132617), { cols: 269, rows: 493 });
  assert.deepEqual(chooseShape(10000), { cols: 100, rows: 100 });
  // 10007 is prime: 1×10007 is useless, so a near-square shape with few empties.
  const p = chooseShape(10007);
  assert.ok(p.cols * p.rows >= 10007 && p.cols * p.rows - 10007 < 100, JSON.stringify(p));
  assert.ok(p.cols / p.rows > 0.6 && p.cols <= p.rows, JSON.stringify(p));
  assert.deepEqual(nearSquareShape(10007), p);
  // 2·prime: 2×5003 is too thin (ratio < 0.4)
  const q = chooseShape(10006);
  assert.ok(q.cols / q.rows > 0.6, JSON.stringify(q));
  assert.deepEqual(chooseShape(100, { cols: 20, rows: 6 }), { cols: 20, rows: 6 });
  assert.throws(
    () => chooseShape(100, { cols: 9, rows: 11 }),
    (e: unknown) =>
      e instanceof AtlasError &&
      e.code === 'INVALID_ARGUMENT' &&
      /9x11 has 99 cells, too few for 100 points/.test(e.message) &&
      e.value === '9x11',
  );
  assert.deepEqual(parseShape('269x493'), { cols: 269, rows: 493 });
  assert.deepEqual(parseShape(' 4 X 5 '), { cols: 4, rows: 5 });
  for (const bad of ['269', '0x5', 'axb', '3x-2', '']) {
    assert.throws(
      () => parseShape(bad),
      (e: unknown) => e instanceof AtlasError && e.message.includes(`--shape but got '${bad}'`),
      bad,
    );
  }
});

test('LapSolver: optimal against brute force on small random problems, rectangular too', () => {
  const rng = new Random(5);
  const solver = new LapSolver();
  for (let trial = 0; trial < 60; trial++) {
    const rows = 1 + rng.int(5),
      cols = rows + rng.int(3);
    const cost = Float64Array.from({ length: rows * cols }, () => Math.round(rng.next() * 20));
    const total = solver.solve(cost, rows, cols);
    let best = Infinity;
    const used = new Array<boolean>(cols).fill(false);
    const rec = (r: number, acc: number): void => {
      if (r === rows) {
        best = Math.min(best, acc);
        return;
      }
      for (let c = 0; c < cols; c++) {
        if (used[c]) continue;
        used[c] = true;
        rec(r + 1, acc + cost[r * cols + c]);
        used[c] = false;
      }
    };
    rec(0, 0);
    assert.equal(total, best, `trial ${trial}`);
    const cs = new Set(Array.from(solver.rowToCol.subarray(0, rows)));
    assert.equal(cs.size, rows);
  }
  assert.throws(() => solver.solve(new Float64Array(6), 3, 2), /rows ≤ cols/);
});

test('every grid method is a bijection onto the cells, with exact, awkward and given shapes', () => {
  const cases: { n: number; shape?: { cols: number; rows: number } }[] = [
    { n: 600 },
    { n: 601 },
    { n: 500, shape: { cols: 30, rows: 20 } },
    { n: 2 },
    { n: 1 },
  ];
  for (const method of Object.keys(GRIDS)) {
    for (const { n, shape } of cases) {
      const xy = clustered(n, n);
      const r = assignGrid(xy, { method, shape });
      const s = shape ?? chooseShape(n);
      assert.deepEqual(r.shape, s);
      assertBijection(r.xy, n, s.cols, s.rows);
    }
  }
});

test('transport and neighbours beat a naive sort and the plain split on clustered points', () => {
  const n = 2500;
  const xy = clustered(n, 7);
  const naive = gridQuality(xy, naiveSort(xy, n, 50));
  const split = gridQuality(xy, assignGrid(xy, { method: 'split' }).xy);
  const transport = gridQuality(xy, assignGrid(xy, { method: 'transport' }).xy);
  const neighbours = gridQuality(xy, assignGrid(xy, { method: 'neighbours' }).xy);
  const show = JSON.stringify({ naive, split, transport, neighbours }, (_k, v: unknown) =>
    typeof v === 'number' ? Number(v.toFixed(4)) : v,
  );
  assert.ok(transport.recall > naive.recall + 0.15, show);
  assert.ok(transport.recall > split.recall + 0.01, show);
  assert.ok(neighbours.recall > split.recall + 0.02, show);
  assert.ok(transport.meanDisplacement < naive.meanDisplacement, show);
  assert.ok(neighbours.meanDisplacement < naive.meanDisplacement, show);
});

test('assignGrid: deterministic for a seed; bad input and unknown methods are named', () => {
  const xy = clustered(300, 1);
  assert.deepEqual(assignGrid(xy).xy, assignGrid(xy).xy);
  assert.throws(
    () => assignGrid(xy, { method: 'hungarian' }),
    (e: unknown) =>
      e instanceof AtlasError &&
      /unknown grid method 'hungarian': must be one of \[transport, neighbours, split, rasterfairy\]/.test(
        e.message,
      ),
  );
  const bad = Float64Array.from(xy);
  bad[7] = NaN;
  assert.throws(() => assignGrid(bad), /point 3 has a non-finite coordinate \(NaN\)/);
  assert.throws(() => assignGrid(new Float64Array(3)), /n×2/);
  const aborted = new AbortController();
  aborted.abort();
  assert.throws(
    () => assignGrid(xy, { signal: aborted.signal }),
    (e: unknown) => e instanceof AtlasError && e.code === 'ABORTED',
  );
});
