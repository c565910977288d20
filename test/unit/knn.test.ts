import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AtlasError } from '../../src/errors.js';
import { KnnIndex, knn, type KnnMetric } from '../../src/numeric/knn.js';
import { releaseMatmulSessions } from '../../src/numeric/matmul.js';
import { Random } from '../../src/numeric/random.js';
import { matrixSource, type Matrix } from '../../src/types.js';

after(() => releaseMatmulSessions());

function randomMatrix(seed: number, rows: number, cols: number): Matrix {
  const rng = new Random(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => rng.normal()) };
}

/** Float64 brute force: every (distance, index) pair sorted, ties by index. */
function brute(
  data: Matrix,
  queries: Matrix,
  k: number,
  metric: KnnMetric,
  excludeSelf: boolean,
): { idx: number[][]; dist: number[][] } {
  const d = data.cols;
  const norm = (m: Matrix, r: number): number => {
    let s = 0;
    for (let c = 0; c < d; c++) s += m.data[r * d + c] ** 2;
    return Math.sqrt(s);
  };
  const idx: number[][] = [];
  const dist: number[][] = [];
  for (let i = 0; i < queries.rows; i++) {
    const all: [number, number][] = [];
    for (let j = 0; j < data.rows; j++) {
      if (excludeSelf && i === j) continue;
      let v = 0;
      if (metric === 'euclidean') {
        for (let c = 0; c < d; c++) v += (queries.data[i * d + c] - data.data[j * d + c]) ** 2;
        v = Math.sqrt(v);
      } else {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += queries.data[i * d + c] * data.data[j * d + c];
        const nn = norm(queries, i) * norm(data, j);
        v = nn > 0 ? 1 - dot / nn : 1;
      }
      all.push([v, j]);
    }
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    idx.push(all.slice(0, k).map((p) => p[1]));
    dist.push(all.slice(0, k).map((p) => p[0]));
  }
  return { idx, dist };
}

function agree(
  got: { indices: Int32Array; distances: Float32Array; k: number; n: number },
  ref: { idx: number[][]; dist: number[][] },
): void {
  const k = got.k;
  assert.equal(got.n, ref.idx.length);
  for (let i = 0; i < got.n; i++) {
    for (let t = 0; t < k; t++) {
      const gd = got.distances[i * k + t];
      assert.ok(
        Math.abs(gd - ref.dist[i][t]) < 1e-5,
        `query ${i} rank ${t}: distance ${gd} vs ${ref.dist[i][t]}`,
      );
      // The same index unless two candidates are tied within float32 error.
      if (got.indices[i * k + t] !== ref.idx[i][t]) {
        const j = got.indices[i * k + t];
        const pos = ref.idx[i].indexOf(j);
        assert.ok(
          pos >= 0 && Math.abs(ref.dist[i][pos] - ref.dist[i][t]) < 1e-4,
          `query ${i} rank ${t}: index ${j} vs ${ref.idx[i][t]}`,
        );
      }
    }
  }
}

for (const metric of ['euclidean', 'cosine'] as const) {
  test(`${metric}: agrees with brute force across several blocks, with and without excluding self`, async () => {
    const data = randomMatrix(1, 150, 13);
    for (const excludeSelf of [false, true]) {
      const got = await knn(matrixSource(data), { k: 7, metric, excludeSelf, blockRows: 32 });
      agree(got, brute(data, data, 7, metric, excludeSelf));
      if (!excludeSelf)
        for (let i = 0; i < data.rows; i++)
          assert.equal(got.indices[i * 7], i, `row ${i} is its own nearest`);
      else
        for (let i = 0; i < data.rows; i++)
          for (let t = 0; t < 7; t++) assert.notEqual(got.indices[i * 7 + t], i);
    }
  });

  test(`${metric}: separate queries against the data`, async () => {
    const data = randomMatrix(2, 97, 9);
    const queries = randomMatrix(3, 41, 9);
    const got = await knn(matrixSource(data), {
      k: 97,
      metric,
      queries: matrixSource(queries),
      blockRows: 16,
    });
    agree(got, brute(data, queries, 97, metric, false));
  });
}

test('ties go to the lower index; cosine puts zero rows at distance 1', async () => {
  // Rows 0..5 identical: every query's neighbours among them come in index order.
  const same: Matrix = { rows: 6, cols: 2, data: new Float32Array(12).fill(1) };
  const r = await knn(matrixSource(same), { k: 3, excludeSelf: true, blockRows: 16 });
  assert.deepEqual([...r.indices.subarray(0, 3)], [1, 2, 3]);
  assert.deepEqual([...r.indices.subarray(3 * 4, 3 * 5)], [0, 1, 2]);
  const withZero: Matrix = { rows: 3, cols: 2, data: Float32Array.from([0, 0, 1, 0, 0, 2]) };
  const c = await knn(matrixSource(withZero), { k: 2, metric: 'cosine', excludeSelf: true });
  assert.deepEqual([...c.distances.subarray(0, 2)], [1, 1]);
  assert.ok(Math.abs(c.distances[2] - 1) < 1e-6); // (1,0)·(0,1) = 0 → 1, same as the zero row
});

test('bad input is rejected naming the value', async () => {
  const data = randomMatrix(4, 10, 3);
  const src = matrixSource(data);
  await assert.rejects(
    () => knn(src, { k: 11 }),
    (e: unknown) => e instanceof AtlasError && /k = 11/.test(e.message) && e.value === '11',
  );
  await assert.rejects(
    () => knn(src, { k: 10, excludeSelf: true }),
    (e: unknown) => e instanceof AtlasError && /only 9 data rows/.test(e.message),
  );
  await assert.rejects(
    () => knn(src, { k: 0 }),
    (e: unknown) => e instanceof AtlasError && e.code === 'INVALID_ARGUMENT',
  );
  await assert.rejects(
    () => knn(src, { k: 2, metric: 'manhattan' as KnnMetric }),
    (e: unknown) => e instanceof AtlasError && /manhattan/.test(e.message),
  );
  await assert.rejects(
    () => knn(src, { k: 2, queries: matrixSource(randomMatrix(5, 4, 2)) }),
    (e: unknown) => e instanceof AtlasError && /2 columns but the data has 3/.test(e.message),
  );
  const bad = randomMatrix(6, 10, 3);
  bad.data[7 * 3 + 1] = Number.NaN;
  await assert.rejects(
    () => knn(matrixSource(bad), { k: 2 }),
    (e: unknown) => e instanceof AtlasError && /row 7 column 1 is NaN/.test(e.message) && e.value === 'NaN',
  );
});

test('ties across blocks go to the lower index', async () => {
  // 40 identical rows and 10 others, in blocks of 16: every list of the identical
  // rows is the lowest indices other than the row itself.
  const rng = new Random(8);
  const data: Matrix = { rows: 50, cols: 3, data: new Float32Array(150) };
  for (let i = 0; i < 50; i++)
    for (let c = 0; c < 3; c++) data.data[i * 3 + c] = i < 40 ? 0.5 : 5 + rng.next();
  for (const queries of [undefined, matrixSource(data)]) {
    const r = await knn(matrixSource(data), {
      k: 20,
      excludeSelf: queries === undefined,
      blockRows: 16,
      queries,
    });
    for (const i of [0, 7, 25, 39]) {
      const want = Array.from({ length: 21 }, (_, t) => t)
        .filter((t) => queries !== undefined || t !== i)
        .slice(0, 20);
      assert.deepEqual([...r.indices.subarray(i * 20, i * 20 + 20)], want, `row ${i}`);
    }
  }
});

test('an aborted signal stops the search, mid-run too', async () => {
  let seen = 0;
  const ac2 = new AbortController();
  await assert.rejects(
    () =>
      knn(matrixSource(randomMatrix(9, 200, 4)), {
        k: 3,
        blockRows: 16,
        signal: ac2.signal,
        onProgress: (e) => {
          if (e.done > 0 && ++seen === 2) ac2.abort();
        },
      }),
    (e: unknown) => e instanceof AtlasError && e.code === 'ABORTED',
  );
  assert.equal(seen, 2);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    () => knn(matrixSource(randomMatrix(7, 100, 4)), { k: 3, signal: ac.signal, blockRows: 16 }),
    (e: unknown) => e instanceof AtlasError && e.code === 'ABORTED',
  );
});

/** Brute force with one data row left out per query (−1: none). */
function bruteLeavingOut(
  data: Matrix,
  queries: Matrix,
  k: number,
  metric: KnnMetric,
  exclude: number[],
): { idx: number[][]; dist: number[][] } {
  const wide = brute(data, queries, Math.min(k + 1, data.rows), metric, false);
  const idx: number[][] = [];
  const dist: number[][] = [];
  for (let i = 0; i < queries.rows; i++) {
    const keep = wide.idx[i].map((j, t) => [j, wide.dist[i][t]] as const).filter(([j]) => j !== exclude[i]);
    idx.push(keep.slice(0, k).map((p) => p[0]));
    dist.push(keep.slice(0, k).map((p) => p[1]));
  }
  return { idx, dist };
}

/** Rows scaled to unit length (zero rows stay zero). */
function unit(m: Matrix): Matrix {
  const data = Float32Array.from(m.data);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let c = 0; c < m.cols; c++) s += data[r * m.cols + c] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < m.cols; c++) data[r * m.cols + c] *= inv;
  }
  return { rows: m.rows, cols: m.cols, data };
}

for (const metric of ['euclidean', 'cosine'] as KnnMetric[]) {
  test(`${metric}: a prepared index answers batches with rows left out as brute force does, resident or not`, async () => {
    const data = randomMatrix(21, 150, 6);
    const queries = randomMatrix(22, 9, 6);
    const exclude = [3, -1, 149, 0, 77, -1, 5, 64, 100];
    const ref = bruteLeavingOut(data, queries, 8, metric, exclude);
    for (const resident of [true, false]) {
      const index = new KnnIndex(matrixSource(data), { metric, blockRows: 32, resident });
      for (let pass = 0; pass < 2; pass++) {
        const got = await index.search({
          k: 8,
          queries: matrixSource(queries),
          exclude: Int32Array.from(exclude),
        });
        agree(got, ref);
      }
      // The same index, searched on its own rows, is knn's self search.
      const self = await index.search({ k: 5, excludeSelf: true });
      agree(self, brute(data, data, 5, metric, true));
    }
  });
}

test('batched single queries: concurrent ones equal lone ones and brute force, whatever k each asks', async () => {
  const data = unit(randomMatrix(31, 200, 8));
  const index = new KnnIndex(matrixSource(data), { metric: 'cosine', unitRows: true, blockRows: 64 });
  const rows = [0, 5, 17, 42, 99, 150, 199, 7];
  const ks = [1, 4, 12, 199, 3, 9, 6, 2];
  const row = (r: number): Float32Array => data.data.slice(r * data.cols, (r + 1) * data.cols);
  const together = await Promise.all(rows.map((r, i) => index.nearest(row(r), ks[i], r)));
  // A query that leaves nothing out may ask for every row, in the same batch as the others.
  const all = index.nearest(row(3), 200);
  const [everything] = await Promise.all([all, index.nearest(row(4), 2, 4)]);
  assert.equal(everything.indices.length, 200);
  assert.equal(everything.indices[0], 3);
  for (const [i, r] of rows.entries()) {
    const ref = bruteLeavingOut(data, { rows: 1, cols: data.cols, data: row(r) }, ks[i], 'cosine', [r]);
    agree({ n: 1, k: ks[i], ...together[i] }, ref);
    assert.ok(!together[i].indices.includes(r), `row ${r} is left out of its own list`);
    const alone = await index.nearest(row(r), ks[i], r);
    assert.deepEqual(alone, together[i]);
  }
  await assert.rejects(
    () => index.nearest(row(0), 200, 0),
    (e: unknown) => e instanceof AtlasError && e.code === 'INVALID_ARGUMENT',
  );
  await assert.rejects(
    () => index.nearest(new Float32Array(3), 2),
    (e: unknown) => e instanceof AtlasError && /3 values but the data has 8 columns/.test(e.message),
  );
});

test('unit rows are used as they are: the same neighbours as cosine, distances from the given rows', async () => {
  const data = unit(randomMatrix(41, 120, 5));
  const queries = unit(randomMatrix(42, 6, 5));
  const cosine = await knn(matrixSource(data), { k: 7, metric: 'cosine', queries: matrixSource(queries) });
  const asIs = await knn(matrixSource(data), {
    k: 7,
    metric: 'cosine',
    unitRows: true,
    queries: matrixSource(queries),
  });
  agree(asIs, brute(data, queries, 7, 'cosine', false));
  for (let i = 0; i < asIs.indices.length; i++) {
    // The float64 rescoring of the given rows: 1 − q·x exactly as the rows hold them.
    const q = Math.floor(i / 7);
    const x = asIs.indices[i];
    let dot = 0;
    for (let c = 0; c < 5; c++) dot += queries.data[q * 5 + c] * data.data[x * 5 + c];
    assert.equal(asIs.distances[i], Math.fround(1 - dot));
    assert.ok(Math.abs(asIs.distances[i] - cosine.distances[i]) < 1e-6);
  }
});
