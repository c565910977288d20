import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gridQuality, knn2d, unitScale } from '../../src/layout/quality.js';
import { Random } from '../../src/numeric/random.js';
import { SHARED, tempDir } from '../helpers/tmp.js';

test('unitScale: per-axis min–max, constant axes, iso keeps the aspect', () => {
  assert.deepEqual(Array.from(unitScale(Float64Array.from([0, 10, 2, 20, 4, 30]))), [0, 0, 0.5, 0.5, 1, 1]);
  assert.deepEqual(Array.from(unitScale(Float64Array.from([1, 5, 3, 5]))), [0, 0, 1, 0]);
  assert.deepEqual(Array.from(unitScale(Float64Array.from([0, 0, 2, 1]), 'iso')), [0, 0, 1, 0.5]);
});

test('knn2d: exact neighbours against brute force, ties by index', () => {
  const rng = new Random(3);
  const n = 700,
    k = 7;
  const p = new Float64Array(2 * n);
  // half the points on a lattice (many exact ties), half random
  for (let i = 0; i < n; i++) {
    p[2 * i] = i < n / 2 ? (i % 15) / 14 : rng.next();
    p[2 * i + 1] = i < n / 2 ? Math.floor(i / 15) / 22 : rng.next();
  }
  const got = knn2d(p, k);
  for (let i = 0; i < n; i++) {
    const all = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
    const d = (j: number): number => (p[2 * j] - p[2 * i]) ** 2 + (p[2 * j + 1] - p[2 * i + 1]) ** 2;
    all.sort((a, b) => d(a) - d(b) || a - b);
    assert.deepEqual(
      Array.from(got.subarray(i * k, (i + 1) * k)),
      all.slice(0, k),
      `neighbours of point ${i}`,
    );
  }
  assert.throws(() => knn2d(p.subarray(0, 10), 5), /k must be an integer 1…4/);
});

test('gridQuality: known values on hand-made layouts', () => {
  // A grid laid out exactly like its input: perfect recall, no displacement.
  const xy = new Float64Array(2 * 36);
  for (let i = 0; i < 36; i++) {
    xy[2 * i] = i % 6;
    xy[2 * i + 1] = Math.floor(i / 6);
  }
  const same = gridQuality(xy, Int32Array.from(xy), { k: 4 });
  assert.equal(same.recall, 1);
  assert.equal(same.meanDisplacement, 0);
  assert.equal(same.uniqueCells, 36);

  // Four points, the grid swaps two of them: computed by hand.
  //   input (0,0) (1,0) (0,1) (1,1); grid puts item 0 at (1,1) and item 3 at (0,0).
  const input = Float64Array.from([0, 0, 1, 0, 0, 1, 1, 1]);
  const grid = Int32Array.from([1, 1, 1, 0, 0, 1, 0, 0]);
  const q = gridQuality(input, grid, { k: 1 });
  // k=1 neighbours (ties by index): input 0→1, 1→0, 2→0, 3→1; grid 0→1, 1→0, 2→0, 3→1 (same positions relabelled)
  assert.equal(q.recall, 1);
  assert.equal(q.meanDisplacement, (Math.SQRT2 + 0 + 0 + Math.SQRT2) / 4);
  assert.equal(q.medianDisplacement, Math.SQRT2 / 2); // numpy: mean of the two middle values
  assert.ok(Math.abs(q.p95Displacement - Math.SQRT2) < 1e-12);

  // Reversing a 1-D line keeps every neighbourhood but moves the ends the most.
  const line = Float64Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? i / 2 : 0));
  const rev = Float64Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 9 - i / 2 : 0));
  const r = gridQuality(line, rev, { k: 2 });
  assert.equal(r.recall, 1);
  assert.ok(Math.abs(r.meanDisplacement - 0.5555555555555556) < 1e-12); // mean |1 − 2i/9| over i = 0…9
  assert.throws(() => gridQuality(line, rev.subarray(0, 10)), /n×2/);
});

/** grid_quality.py on the same tie-free case, when python3 with numpy and scipy is installed. */
test('gridQuality matches ../shared/anchors/grid_quality.py (tie-free case)', (t) => {
  const script = join(SHARED, 'anchors', 'grid_quality.py');
  const python = '/usr/bin/python3';
  let ok = existsSync(script) && existsSync(python);
  if (ok) {
    try {
      execFileSync(python, ['-c', 'import numpy, scipy'], { stdio: 'ignore' });
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    t.skip('python3 with numpy+scipy or the anchors are not available');
    return;
  }
  const dir = tempDir();
  const rng = new Random(11);
  const n = 3000;
  const a = new Float64Array(2 * n),
    b = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    a[2 * i] = rng.normal() * 3;
    a[2 * i + 1] = rng.normal();
    // a noisy copy: neighbourhoods partly kept, no distance ties
    b[2 * i] = a[2 * i] + rng.normal() * 0.3;
    b[2 * i + 1] = a[2 * i + 1] * 2 + rng.normal() * 0.2;
  }
  const npy = (path: string, data: Float64Array): void => {
    let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${n}, 2), }`;
    while ((header.length + 11) % 64) header += ' ';
    header += '\n';
    const pre = Buffer.from([
      0x93,
      0x4e,
      0x55,
      0x4d,
      0x50,
      0x59,
      1,
      0,
      header.length & 0xff,
      header.length >> 8,
    ]);
    writeFileSync(path, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
  };
  npy(join(dir, 'a.npy'), a);
  npy(join(dir, 'b.npy'), b);
  const py = JSON.parse(
    execFileSync(python, [script, join(dir, 'a.npy'), join(dir, 'b.npy'), '--k', '10'], { encoding: 'utf8' }),
  ) as Record<string, number>;
  const ours = gridQuality(a, b, { k: 10 });
  assert.equal(ours.recall, py.recall_at_k);
  assert.ok(
    Math.abs(ours.meanDisplacement - py.mean_displacement) < 1e-12,
    `${ours.meanDisplacement} vs ${py.mean_displacement}`,
  );
  assert.ok(Math.abs(ours.medianDisplacement - py.median_displacement) < 1e-12);
  assert.ok(Math.abs(ours.p95Displacement - py.p95_displacement) < 1e-12);
  assert.equal(ours.uniqueCells, py.n_unique_cells);
});
