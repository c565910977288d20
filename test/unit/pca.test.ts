import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { AtlasError } from '../../src/errors.js';
import { symmetricEigen } from '../../src/numeric/eigen.js';
import { releaseMatmulSessions } from '../../src/numeric/matmul.js';
import { fitPca, fitTransformPca, transformPca, type PcaModel } from '../../src/numeric/pca.js';
import { Random } from '../../src/numeric/random.js';
import { matrixSource, type Matrix, type RowSource } from '../../src/types.js';
import { PCA_FIXTURE, pcaFixtureMatrix } from '../fixtures/pca/matrix.js';

after(releaseMatmulSessions);

interface RefCase {
  components: number[][];
  explained_variance: number[];
  explained_variance_ratio: number[];
}
const reference = JSON.parse(
  readFileSync(new URL('../fixtures/pca/reference.json', import.meta.url), 'utf8'),
) as { sklearn: string; components: number; cases: Record<string, RefCase> };

/** Asserts |a[i] − b[i]| ≤ tol for all i, naming the first bad index. */
function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tol)) {
      assert.fail(`${what}: index ${i}: ${a[i]} vs ${b[i]} (|diff| ${Math.abs(a[i] - b[i])} > ${tol})`);
    }
  }
}

/** Component c of the model, sign-matched to `ref` (components equal up to sign). */
function componentLike(model: PcaModel, c: number, ref: ArrayLike<number>): Float64Array {
  const d = model.dim;
  const v = Float64Array.from(model.basis.subarray(c * d, (c + 1) * d));
  let dot = 0;
  for (let j = 0; j < d; j++) dot += v[j] * ref[j];
  if (dot < 0) for (let j = 0; j < d; j++) v[j] = -v[j];
  return v;
}

/** A RowSource that hands out fresh copies (as FeatureReader does) and counts reads. */
function copyingSource(m: Matrix): RowSource & { reads: number; maxRows: number } {
  const s = {
    rows: m.rows,
    dim: m.cols,
    reads: 0,
    maxRows: 0,
    readRows(start: number, count: number): Float32Array {
      s.reads++;
      s.maxRows = Math.max(s.maxRows, count);
      return m.data.slice(start * m.cols, (start + count) * m.cols);
    },
  };
  return s;
}

function randomMatrix(rows: number, cols: number, seed: number, rank = cols): Matrix {
  const rng = new Random(seed);
  const z = Float64Array.from({ length: rows * rank }, () => rng.normal());
  const w = Float64Array.from({ length: rank * cols }, () => rng.normal());
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 3;
      for (let r = 0; r < rank; r++) s += z[i * rank + r] * w[r * cols + j] * (r + 1);
      data[i * cols + j] = s;
    }
  }
  return { data, rows, cols };
}

describe('PCA parity with scikit-learn (committed reference)', () => {
  const m = pcaFixtureMatrix();
  assert.deepEqual([m.rows, m.cols], [PCA_FIXTURE.rows, PCA_FIXTURE.cols]);
  for (const method of ['exact', 'randomized'] as const) {
    for (const standardize of [false, true]) {
      const key = method + (standardize ? '+standardize' : '');
      test(`${key} matches sklearn ${reference.sklearn} (components up to sign, ratios within 1e-3)`, async () => {
        const ref = reference.cases[key];
        const model = await fitPca(matrixSource(m), {
          components: reference.components,
          method,
          standardize,
        });
        assert.equal(model.method, method);
        close(model.explainedVarianceRatio, ref.explained_variance_ratio, 1e-3, `${key} ratios`);
        for (let c = 0; c < reference.components; c++) {
          close(componentLike(model, c, ref.components[c]), ref.components[c], 1e-3, `${key} component ${c}`);
        }
        // the variances themselves (σ²/(n − 1)), relative
        for (let c = 0; c < reference.components; c++) {
          const rel = Math.abs(model.explainedVariance[c] / ref.explained_variance[c] - 1);
          assert.ok(
            rel < 1e-3,
            `${key} explained variance ${c}: ${model.explainedVariance[c]} vs ${ref.explained_variance[c]}`,
          );
        }
      });
    }
  }
});

describe('PCA streaming', () => {
  test('odd block sizes and copying sources give the in-memory answer; the source is not modified', async () => {
    const m = pcaFixtureMatrix();
    const before = m.data.slice();
    for (const method of ['exact', 'randomized'] as const) {
      const whole = await fitPca(matrixSource(m), {
        components: 4,
        method,
        standardize: true,
        blockRows: 100000,
      });
      const src = copyingSource(m);
      const streamed = await fitPca(src, { components: 4, method, standardize: true, blockRows: 37 });
      assert.ok(src.maxRows <= 37, `read ${src.maxRows} rows at once`);
      assert.ok(src.reads > 2 * Math.ceil(m.rows / 37), 'several passes over the blocks');
      close(streamed.explainedVarianceRatio, whole.explainedVarianceRatio, 1e-7, `${method} ratios`);
      close(streamed.basis, whole.basis, 1e-5, `${method} basis`);
      close(streamed.mean, whole.mean, 1e-6, `${method} mean`);
      close(streamed.scale!, whole.scale!, 1e-6, `${method} scale`);
    }
    assert.deepEqual(m.data, before);
  });

  test('transform equals the projection of the centred, scaled rows, whatever the block size', async () => {
    const m = pcaFixtureMatrix();
    for (const standardize of [false, true]) {
      const model = await fitPca(matrixSource(m), { components: 3, standardize });
      const y = await transformPca(copyingSource(m), model, { blockRows: 61 });
      assert.equal(y.length, m.rows * 3);
      const d = m.cols;
      const want = new Float64Array(m.rows * 3);
      for (let i = 0; i < m.rows; i++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let j = 0; j < d; j++) {
            const x = (m.data[i * d + j] - model.mean[j]) / (model.scale ? model.scale[j] : 1);
            s += x * model.basis[c * d + j];
          }
          want[i * 3 + c] = s;
        }
      }
      close(y, want, 2e-4 * (standardize ? 1 : 10), `transform (standardize ${standardize})`);
      // projections are centred and their variance (ddof 1) is the explained variance
      for (let c = 0; c < 3; c++) {
        let s = 0,
          s2 = 0;
        for (let i = 0; i < m.rows; i++) {
          s += y[i * 3 + c];
          s2 += y[i * 3 + c] ** 2;
        }
        assert.ok(Math.abs(s / m.rows) < 1e-3, `component ${c} mean ${s / m.rows}`);
        const v = (s2 - (s * s) / m.rows) / (m.rows - 1);
        assert.ok(
          Math.abs(v / model.explainedVariance[c] - 1) < 1e-4,
          `component ${c} variance ${v} vs ${model.explainedVariance[c]}`,
        );
      }
    }
  });
});

describe('fitTransformPca', () => {
  test('gives the model fitPca gives and (nearly, for randomized: sklearn U·Σ) the projection transformPca gives', async () => {
    const m = pcaFixtureMatrix();
    for (const method of ['exact', 'randomized'] as const) {
      const { model, projection } = await fitTransformPca(matrixSource(m), {
        components: 3,
        method,
        standardize: true,
      });
      const alone = await fitPca(matrixSource(m), { components: 3, method, standardize: true });
      assert.deepEqual(model.basis, alone.basis);
      const y = await transformPca(matrixSource(m), model);
      let scale = 0;
      for (const v of y) scale = Math.max(scale, Math.abs(v));
      close(projection, y, (method === 'exact' ? 1e-6 : 1e-3) * scale, `${method} projection`);
    }
  });
});

describe('PCA semantics', () => {
  test("standardize is sklearn's StandardScaler: population std, constant columns get scale 1", async () => {
    const m = pcaFixtureMatrix();
    const model = await fitPca(matrixSource(m), { components: 2, standardize: true });
    const d = m.cols;
    for (const j of [0, 7, PCA_FIXTURE.constantColumn, d - 1]) {
      let s = 0,
        s2 = 0;
      for (let i = 0; i < m.rows; i++) s += m.data[i * d + j];
      const mean = s / m.rows;
      for (let i = 0; i < m.rows; i++) s2 += (m.data[i * d + j] - mean) ** 2;
      const sd = Math.sqrt(s2 / m.rows); // ddof 0
      assert.ok(Math.abs(model.mean[j] - mean) < 1e-4 * Math.max(1, Math.abs(mean)));
      if (j === PCA_FIXTURE.constantColumn) assert.equal(model.scale![j], 1);
      else assert.ok(Math.abs(model.scale![j] / sd - 1) < 1e-5, `scale ${j}: ${model.scale![j]} vs ${sd}`);
      // the constant column plays no part in any axis
      if (j === PCA_FIXTURE.constantColumn)
        assert.ok(Math.abs(model.basis[j]) < 1e-6 && Math.abs(model.basis[d + j]) < 1e-6);
    }
    const plain = await fitPca(matrixSource(m), { components: 2 });
    assert.equal(plain.scale, null);
    assert.ok(
      Math.abs(plain.explainedVarianceRatio[0] - model.explainedVarianceRatio[0]) > 0.05,
      'standardising changes the answer',
    );
  });

  test('all components: ratios sum to 1, axes orthonormal, largest entry of each axis positive', async () => {
    const m = randomMatrix(120, 9, 3);
    const model = await fitPca(matrixSource(m), { components: 9, method: 'exact', standardize: true });
    const sum = model.explainedVarianceRatio.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9, `sum ${sum}`);
    for (let a = 0; a < 9; a++) {
      let best = 0;
      for (let j = 0; j < 9; j++)
        if (Math.abs(model.basis[a * 9 + j]) > Math.abs(model.basis[a * 9 + best])) best = j;
      assert.ok(model.basis[a * 9 + best] > 0, `axis ${a} sign`);
      for (let b = 0; b <= a; b++) {
        let dot = 0;
        for (let j = 0; j < 9; j++) dot += model.basis[a * 9 + j] * model.basis[b * 9 + j];
        assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-5, `axes ${a}·${b} = ${dot}`);
      }
      if (a > 0) assert.ok(model.explainedVariance[a] <= model.explainedVariance[a - 1]);
    }
  });

  test('randomized PCA is seeded, and copes with data of lower rank than its oversampled basis', async () => {
    const m = randomMatrix(300, 40, 11, 3); // rank 3 (plus an offset)
    const a = await fitPca(matrixSource(m), { components: 3, method: 'randomized', seed: 5 });
    const b = await fitPca(matrixSource(m), { components: 3, method: 'randomized', seed: 5 });
    assert.deepEqual(a.basis, b.basis);
    const exact = await fitPca(matrixSource(m), { components: 3, method: 'exact' });
    close(a.explainedVarianceRatio, exact.explainedVarianceRatio, 1e-5, 'rank-3 ratios');
    const sum = a.explainedVarianceRatio.reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4, `three components hold all the variance (${sum})`);
    for (let c = 0; c < 3; c++)
      close(
        componentLike(a, c, exact.basis.subarray(c * 40, c * 40 + 40)),
        exact.basis.subarray(c * 40, c * 40 + 40),
        1e-4,
        `axis ${c}`,
      );
  });

  test("'auto' picks randomized above 1,024 dimensions for few components, exact otherwise", async () => {
    const wide = randomMatrix(40, 1100, 2, 4);
    assert.equal((await fitPca(matrixSource(wide), { components: 2 })).method, 'randomized');
    assert.equal((await fitPca(matrixSource(randomMatrix(40, 30, 2)), { components: 2 })).method, 'exact');
  });
});

describe('PCA bad input', () => {
  const m = randomMatrix(20, 6, 1);
  const rejects = async (p: Promise<unknown>, code: string, re: RegExp): Promise<void> => {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof AtlasError, String(e));
      assert.equal(e.code, code);
      assert.match(e.message, re);
      return true;
    });
  };

  test('bad components, method, block size, too few rows, non-finite values, wrong width', async () => {
    await rejects(
      fitPca(matrixSource(m), { components: 0 }),
      'INVALID_ARGUMENT',
      /integer 1–6 for PCA components but got 0/,
    );
    await rejects(fitPca(matrixSource(m), { components: 7 }), 'INVALID_ARGUMENT', /got 7/);
    await rejects(fitPca(matrixSource(m), { components: 1.5 }), 'INVALID_ARGUMENT', /got 1\.5/);
    await rejects(
      fitPca(matrixSource(m), { components: 2, method: 'svd' as 'exact' }),
      'INVALID_ARGUMENT',
      /unknown PCA method 'svd': must be one of \[exact, randomized, auto\]/,
    );
    await rejects(
      fitPca(matrixSource(m), { components: 2, blockRows: 0 }),
      'INVALID_ARGUMENT',
      /blockRows but got 0/,
    );
    await rejects(
      fitPca(matrixSource({ data: new Float32Array(6), rows: 1, cols: 6 }), { components: 1 }),
      'INVALID_ARGUMENT',
      /at least 2 rows, got 1/,
    );
    const bad = { ...m, data: m.data.slice() };
    bad.data[3 * 6 + 4] = Number.NaN;
    await rejects(fitPca(matrixSource(bad), { components: 2 }), 'STATE', /column 4 holds a non-finite value/);
    const model = await fitPca(matrixSource(m), { components: 2 });
    await rejects(
      transformPca(matrixSource(randomMatrix(5, 7, 1)), model),
      'STATE',
      /fitted on 6-d rows but the input has 7/,
    );
  });

  test('an aborted signal stops the fit', async () => {
    const c = new AbortController();
    c.abort();
    await rejects(fitPca(matrixSource(m), { components: 2, signal: c.signal }), 'ABORTED', /cancelled/);
  });
});

describe('symmetricEigen', () => {
  test('A·v = λ·v, orthonormal vectors, descending values; degenerate and zero matrices', () => {
    const rng = new Random(4);
    const n = 30;
    const b = Float64Array.from({ length: n * n }, () => rng.normal());
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += b[i * n + k] * b[j * n + k];
    const { values, vectors } = symmetricEigen(a, n);
    for (let e = 0; e < n; e++) {
      if (e > 0) assert.ok(values[e] <= values[e - 1]);
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[e * n + j];
        assert.ok(Math.abs(av - values[e] * vectors[e * n + i]) < 1e-9 * values[0], `pair ${e}, row ${i}`);
      }
      for (let f = 0; f <= e; f++) {
        let dot = 0;
        for (let j = 0; j < n; j++) dot += vectors[e * n + j] * vectors[f * n + j];
        assert.ok(Math.abs(dot - (e === f ? 1 : 0)) < 1e-12);
      }
    }
    const eye = symmetricEigen(
      Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 2 : 0)),
      4,
    );
    assert.deepEqual(Array.from(eye.values), [2, 2, 2, 2]);
    assert.deepEqual(Array.from(symmetricEigen(new Float64Array(9), 3).values), [0, 0, 0]);
    assert.throws(() => symmetricEigen(Float64Array.of(1, Number.NaN, Number.NaN, 1), 2), /is NaN/);
  });
});
