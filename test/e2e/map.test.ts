import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openAtlas } from '../../src/atlas/atlas.js';
import { FeatureReader } from '../../src/embed/features.js';
import { readLayout } from '../../src/atlas/layouts.js';
import { releaseMatmulSessions } from '../../src/numeric/matmul.js';
import { fitPca, transformPca } from '../../src/numeric/pca.js';
import { parseCsv } from '../../src/sources/csv.js';
import { cli, resultOf } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

after(releaseMatmulSessions);

const dir = tempDir();
const atlas = join(dir, 'atlas');
const N = 32;

before(async () => {
  const src = join(dir, 'stills');
  assert.equal((await cli(['sample', src, '--movies', '4', '--stills', '8', '--width', '160'])).code, 0);
  assert.equal((await cli(['ingest', src, '--atlas', atlas, '--json'])).code, 0);
  assert.equal((await cli(['embed', '--atlas', atlas, '--model', 'color', '--json'])).code, 0);
});

test('map pca → layout stored, equal to the library PCA; export layout csv/json/npy; layouts list', async () => {
  const m = await cli([
    'map',
    '--atlas',
    atlas,
    '--features',
    'color',
    '--reduce',
    'pca',
    '--standardize',
    '--components',
    '3',
    '--name',
    'pca',
    '--json',
  ]);
  assert.equal(m.code, 0, m.stderr);
  const r = resultOf(m);
  assert.deepEqual([r.name, r.reduce, r.features, r.n, r.pcaMethod], ['pca', 'pca', 'color', N, 'exact']);
  const ratios = r.explainedVarianceRatio as number[];
  assert.equal(ratios.length, 3);
  assert.ok(ratios[0] >= ratios[1] && ratios[1] >= ratios[2] && ratios[2] > 0);
  assert.ok(ratios[0] + ratios[1] + ratios[2] <= 1 + 1e-9);
  assert.ok(m.lines.some((l) => l.event === 'progress' && l.stage === 'pca'));

  // the stored layout is the first two components of the library's PCA of the same features
  const a = await openAtlas(atlas, { readonly: true });
  const stored = readLayout(a, 'pca');
  const reader = FeatureReader.open(a, 'color');
  const model = await fitPca(reader, { components: 3, standardize: true, method: 'exact' });
  const y = await transformPca(reader, model);
  const info = new Map((await a.catalog.stills('ready')).map((s) => [s.id, s]));
  await a.close();
  assert.equal(stored.manifest.kind, 'points');
  assert.equal(stored.manifest.method, 'pca');
  assert.deepEqual(stored.manifest.params, { standardize: true, seed: 0, components: 3, pcaMethod: 'exact' });
  assert.deepEqual(Array.from(stored.ids), Array.from(reader.stillIds));
  for (let i = 0; i < N; i++) {
    assert.ok(Math.abs(stored.xy[2 * i] - y[3 * i]) < 1e-4, `x of row ${i}`);
    assert.ok(Math.abs(stored.xy[2 * i + 1] - y[3 * i + 1]) < 1e-4, `y of row ${i}`);
  }
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(model.explainedVarianceRatio[c] - ratios[c]) < 1e-9);

  // the human output names the ratios
  const human = await cli([
    'map',
    '--atlas',
    atlas,
    '--features',
    'color',
    '--reduce',
    'pca',
    '--name',
    'pca-raw',
  ]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /pca-raw: 32 stills, \d+-d 'color' features → 2-D by pca \(exact\)/);
  assert.match(human.stdout, /explained variance ratio: 0\.\d{4}, 0\.\d{4}/);

  // export layout: csv
  const csvPath = join(dir, 'pca.csv');
  const e = await cli([
    'export',
    'layout',
    'pca',
    '--atlas',
    atlas,
    '--format',
    'csv',
    '--out',
    csvPath,
    '--json',
  ]);
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual([resultOf(e).n, resultOf(e).kind], [N, 'points']);
  const rows = parseCsv(readFileSync(csvPath, 'utf8'));
  assert.deepEqual(rows[0], ['still_id', 'movie', 'ordinal', 'x', 'y']);
  assert.equal(rows.length, N + 1);
  for (let i = 0; i < N; i++) {
    const [id, movie, ordinal, x, yv] = rows[i + 1];
    assert.equal(Number(id), stored.ids[i]);
    assert.equal(Math.fround(Number(x)), stored.xy[2 * i]);
    assert.equal(Math.fround(Number(yv)), stored.xy[2 * i + 1]);
    assert.equal(Number(ordinal), info.get(Number(id))!.ordinal);
    assert.match(movie, /\(\d{4}\)$|\S/);
  }
  assert.equal(new Set(rows.slice(1).map((row) => row[1])).size, 4, 'four movies');

  // json
  const jsonPath = join(dir, 'pca.json');
  assert.equal(
    (await cli(['export', 'layout', 'pca', '--atlas', atlas, '--format', 'json', '--out', jsonPath])).code,
    0,
  );
  const doc = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
    layout: string;
    kind: string;
    n: number;
    stats: { explainedVarianceRatio: number[] };
    points: { still_id: number; movie: string; ordinal: number; x: number; y: number }[];
  };
  assert.deepEqual([doc.layout, doc.kind, doc.n, doc.points.length], ['pca', 'points', N, N]);
  assert.deepEqual(doc.stats.explainedVarianceRatio, ratios);
  assert.equal(doc.points[5].still_id, stored.ids[5]);
  assert.equal(Math.fround(doc.points[5].x), stored.xy[10]);
  assert.equal(doc.points[5].movie, rows[6][1]);

  // npy: header + n × 2 float32
  const npyPath = join(dir, 'pca.npy');
  assert.equal(
    (await cli(['export', 'layout', 'pca', '--atlas', atlas, '--format', 'npy', '--out', npyPath])).code,
    0,
  );
  const npy = readFileSync(npyPath);
  const headerLen = npy.readUInt16LE(8);
  assert.match(
    npy.subarray(10, 10 + headerLen).toString('latin1'),
    /'descr': '<f4', 'fortran_order': False, 'shape': \(32, 2\)/,
  );
  const body = new Float32Array(
    npy.buffer.slice(npy.byteOffset + 10 + headerLen, npy.byteOffset + npy.length),
  );
  assert.deepEqual(body, stored.xy);

  // a grid of the map exports its cells too
  assert.equal(
    (await cli(['grid', '--atlas', atlas, '--layout', 'pca', '--name', 'pca-grid', '--json'])).code,
    0,
  );
  const gridCsv = join(dir, 'grid.csv');
  assert.equal(
    (await cli(['export', 'layout', 'pca-grid', '--atlas', atlas, '--format', 'csv', '--out', gridCsv])).code,
    0,
  );
  const g = parseCsv(readFileSync(gridCsv, 'utf8'));
  assert.deepEqual(g[0], ['still_id', 'movie', 'ordinal', 'x', 'y', 'col', 'row']);
  const cells = new Set(g.slice(1).map((row) => `${row[5]},${row[6]}`));
  assert.equal(cells.size, N);
  for (const row of g.slice(1)) assert.deepEqual([row[3], row[4]], [row[5], row[6]]);

  // layouts
  const ls = await cli(['layouts', '--atlas', atlas, '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  const names = (resultOf(ls).layouts as { name: string; kind: string }[]).map((l) => `${l.name}:${l.kind}`);
  assert.deepEqual(names, ['pca:points', 'pca-grid:grid', 'pca-raw:points']);
});

test('bad values fail naming the value', async () => {
  // (the library's checks of every option are unit-tested in test/unit/reduce.test.ts)
  const cases: [string[], number, RegExp][] = [
    [['--reduce', 'svd'], 2, /unknown reduction 'svd': must be one of \[pca, tsne, umap\]/],
    [['--reduce', 'pca', '--features', 'nope'], 1, /no 'nope' features/],
    [['--reduce', 'pca', '--components', '1'], 2, /--components but got '1'/],
  ];
  for (const [args, code, re] of cases) {
    const r = await cli(['map', '--atlas', atlas, '--features', 'color', ...args]);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
  const missing = await cli([
    'export',
    'layout',
    'nope',
    '--atlas',
    atlas,
    '--format',
    'csv',
    '--out',
    join(dir, 'x.csv'),
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no layout named 'nope'/);
  const fmt = await cli([
    'export',
    'layout',
    'pca',
    '--atlas',
    atlas,
    '--format',
    'xml',
    '--out',
    join(dir, 'x.xml'),
  ]);
  assert.equal(fmt.code, 2);
  assert.match(fmt.stderr, /--format but got 'xml'/);
});
