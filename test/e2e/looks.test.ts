import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { openAtlas } from '../../src/atlas/atlas.js';
import { readClusterLabels } from '../../src/atlas/clusters.js';
import { parseCsv } from '../../src/sources/csv.js';
import { cli, resultOf } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
const atlas = join(dir, 'atlas');
const src = join(dir, 'stills');
/** Movie label → look family, from the sample's movies.csv. */
const family = new Map<string, string>();
let movies: string[] = [];

before(async () => {
  assert.equal((await cli(['sample', src, '--movies', '8', '--stills', '6', '--width', '200'])).code, 0);
  assert.equal((await cli(['ingest', src, '--atlas', atlas, '--json'])).code, 0);
  assert.equal((await cli(['embed', '--atlas', atlas, '--model', 'color', '--json'])).code, 0);
  const [header, ...rows] = parseCsv(readFileSync(join(src, 'movies.csv'), 'utf8'));
  for (const f of rows)
    if (f.length > 1)
      family.set(`${f[header.indexOf('title')]} (${f[header.indexOf('year')]})`, f[header.indexOf('family')]);
  movies = [...family.keys()];
});

test('palette: a movie palette with shares summing to 1, a swatch PNG, stored in the atlas', async () => {
  const png = join(dir, 'palette.png');
  const r = await cli([
    'palette',
    '--atlas',
    atlas,
    '--movie',
    movies[0],
    '--k',
    '5',
    '--png',
    png,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = resultOf(r);
  const palette = res.palette as { hex: string; share: number; lab: number[]; hsl: number[] }[];
  assert.equal(res.movie, movies[0]);
  assert.ok(palette.length >= 2 && palette.length <= 5);
  assert.ok(Math.abs(palette.reduce((a, c) => a + c.share, 0) - 1) < 0.01);
  for (let i = 1; i < palette.length; i++)
    assert.ok(palette[i - 1].share >= palette[i].share, 'largest first');
  assert.ok(palette.every((c) => /^#[0-9a-f]{6}$/.test(c.hex) && c.lab.length === 3 && c.hsl.length === 3));
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.width, meta.height], [600, 80]);
  assert.ok(existsSync(join(atlas, 'looks', 'palettes', 'lab-k5', 'colours.f32')));
  // A second run reuses the stored palettes.
  const again = resultOf(
    await cli(['palette', '--atlas', atlas, '--movie', movies[0], '--k', '5', '--json']),
  );
  assert.equal(again.computed, 0);
  assert.deepEqual(again.palette, res.palette);
  // HSL space and a single still.
  const hsl = resultOf(await cli(['palette', '--atlas', atlas, '--still', '1', '--space', 'hsl', '--json']));
  assert.equal(hsl.space, 'hsl');
  assert.ok((hsl.palette as unknown[]).length >= 1);
});

test('barcode: one column per still in film order', async () => {
  const png = join(dir, 'barcode.png');
  const r = await cli([
    'barcode',
    '--atlas',
    atlas,
    '--movie',
    movies[1],
    '--png',
    png,
    '--column-width',
    '3',
    '--height',
    '20',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = resultOf(r);
  assert.equal(res.stills, 6);
  assert.deepEqual([res.width, res.height], [18, 20]);
  const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const columns = res.columns as string[];
  columns.forEach((hex, i) => {
    const o = (10 * 18 + i * 3 + 1) * 3;
    const got = '#' + Array.from(data.subarray(o, o + 3), (v) => v.toString(16).padStart(2, '0')).join('');
    assert.equal(got, hex);
  });
});

test('similar still: by id (self excluded, most similar first), by file (finds itself), exact = approximate here', async () => {
  const r = await cli([
    'similar',
    'still',
    '7',
    '--atlas',
    atlas,
    '--features',
    'color',
    '--k',
    '5',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = resultOf(r);
  const n = res.neighbours as { stillId: number; similarity: number; movie: string }[];
  assert.equal(n.length, 5);
  assert.ok(n.every((x) => x.stillId !== 7));
  for (let i = 1; i < n.length; i++) assert.ok(n[i - 1].similarity >= n[i].similarity);
  assert.equal(res.method, 'exact');
  const approx = resultOf(
    await cli(['similar', 'still', '7', '--atlas', atlas, '--k', '5', '--method', 'approx', '--json']),
  );
  assert.deepEqual(
    (approx.neighbours as { stillId: number }[]).map((x) => x.stillId),
    n.map((x) => x.stillId),
  );
  assert.ok(existsSync(join(atlas, 'looks', 'index', 'color-zscore', 'index.usearch')));
  // A file from outside the atlas: the original of still 7 is embedded on the fly and finds still 7.
  const a = await openAtlas(atlas, { readonly: true });
  const source = (await a.catalog.still(7))!.source;
  await a.close();
  const f = resultOf(await cli(['similar', 'still', source, '--atlas', atlas, '--k', '3', '--json']));
  const fn = f.neighbours as { stillId: number; similarity: number }[];
  assert.equal(fn[0].stillId, 7);
  assert.ok(fn[0].similarity > 0.999, String(fn[0].similarity));
});

test('similar movie: same-family movies first, with still pairs and shared colours as reasons', async () => {
  let hits = 0;
  for (const m of movies) {
    const r = await cli([
      'similar',
      'movie',
      m,
      '--atlas',
      atlas,
      '--features',
      'color',
      '--k',
      '3',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const res = resultOf(r);
    const list = res.movies as {
      movie: string;
      similarity: number;
      reasons: { pairs: unknown[]; sharedColours: unknown[] };
    }[];
    assert.equal(list.length, 3);
    assert.ok(list.every((x) => x.movie !== m));
    for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].similarity >= list[i].similarity);
    assert.equal(list[0].reasons.pairs.length, 3);
    if (family.get(list[0].movie) === family.get(m)) hits++;
  }
  // Two movies per family: the top match is the other one of the family for most movies.
  assert.ok(hits >= 6, `top-1 same family for ${hits} of 8`);
});

test('search colour: stills and movies nearest a palette, with matched colours', async () => {
  const pal = resultOf(await cli(['palette', '--atlas', atlas, '--still', '3', '--k', '6', '--json']));
  const colours = (pal.palette as { hex: string; share: number }[])
    .map((c) => `${c.hex}:${c.share}`)
    .join(',');
  const r = await cli(['search', 'colour', colours, '--atlas', atlas, '--k', '4', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = resultOf(r);
  const stills = res.stills as {
    stillId: number;
    distance: number;
    matches: { query: string; matched: string }[];
  }[];
  assert.equal(stills.length, 4);
  assert.equal(stills[0].stillId, 3, 'a still is nearest its own palette');
  assert.ok(stills[0].distance < 1);
  for (let i = 1; i < stills.length; i++) assert.ok(stills[i - 1].distance <= stills[i].distance);
  const mv = resultOf(
    await cli(['search', 'color', '#1f3a4d,#e08a3c', '--atlas', atlas, '--movies', '--k', '3', '--json']),
  );
  assert.equal((mv.movies as unknown[]).length, 3);
  assert.equal(((mv.movies as { matches: unknown[] }[])[0].matches as unknown[]).length, 2);
});

test('cluster: k-means and HDBSCAN stored by name in the format render reads, with summaries', async () => {
  const r = await cli([
    'cluster',
    '--atlas',
    atlas,
    '--features',
    'color',
    '--k',
    '4',
    '--name',
    'fam',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = resultOf(r);
  assert.equal(res.k, 4);
  const clusters = res.clusters as {
    size: number;
    medoids: unknown[];
    movies: unknown[];
    palette: unknown[];
  }[];
  assert.equal(
    clusters.reduce((a, c) => a + c.size, 0),
    48,
  );
  assert.ok(clusters.every((c) => c.medoids.length >= 1 && c.movies.length >= 1 && c.palette.length >= 1));
  const a = await openAtlas(atlas, { readonly: true });
  const labels = readClusterLabels(a, 'fam');
  await a.close();
  assert.ok(labels);
  assert.equal(labels.byStill.size, 48);
  assert.equal(new Set(labels.byStill.values()).size, 4);
  const auto = resultOf(await cli(['cluster', '--atlas', atlas, '--name', 'auto', '--max-k', '6', '--json']));
  assert.ok((auto.tried as unknown[]).length === 5 && (auto.k as number) >= 2);
  const hd = await cli([
    'cluster',
    '--atlas',
    atlas,
    '--name',
    'hd',
    '--method',
    'hdbscan',
    '--min-cluster-size',
    '4',
    '--json',
  ]);
  assert.equal(hd.code, 0, hd.stderr);
  const hr = resultOf(hd);
  assert.equal(hr.method, 'hdbscan');
  assert.equal(
    (hr.clusters as { size: number }[]).reduce((s, c) => s + c.size, 0) + (hr.noise as number),
    48,
  );
});

test('compare: DTW of a movie with itself is 0, rhythm curves, aligned strip PNG', async () => {
  const png = join(dir, 'aligned.png');
  const r = await cli([
    'compare',
    movies[0],
    movies[3],
    '--atlas',
    atlas,
    '--png',
    png,
    '--columns',
    '5',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = resultOf(r);
  const a = res.a as { stills: number; rhythm: number[] };
  assert.equal(a.stills, 6);
  assert.equal(a.rhythm.length, 5);
  const path = res.path as [number, number][];
  assert.deepEqual(path[0], [0, 0]);
  assert.deepEqual(path[path.length - 1], [5, 5]);
  assert.ok((res.distance as number) > 0.05);
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.width, meta.height], [5 * 112, 2 * 63 + 10]);
  const self = resultOf(
    await cli(['compare', movies[0], movies[0], '--atlas', atlas, '--no-path', '--json']),
  );
  assert.ok((self.distance as number) < 1e-3);
  assert.equal(self.path, undefined);
});

test('bad input: unknown movie, bad colour, bad k, unknown still, missing file', async () => {
  const unknown = await cli(['palette', '--atlas', atlas, '--movie', 'No Such Film (1901)', '--json']);
  assert.equal(unknown.code, 1);
  assert.match(
    String(unknown.lines.find((l) => l.event === 'error')?.message),
    /no movie 'No Such Film \(1901\)'/,
  );
  const colour = await cli(['search', 'colour', '#12zz45', '--atlas', atlas, '--json']);
  assert.equal(colour.code, 2);
  assert.match(String(colour.lines.find((l) => l.event === 'error')?.message), /hex colour.*'#12zz45'/);
  const k = await cli(['cluster', '--atlas', atlas, '--name', 'x', '--k', 'lots', '--json']);
  assert.equal(k.code, 2);
  assert.match(String(k.lines.find((l) => l.event === 'error')?.message), /--k.*'lots'/);
  const still = await cli(['similar', 'still', '99999', '--atlas', atlas, '--json']);
  assert.equal(still.code, 1);
  assert.match(String(still.lines.find((l) => l.event === 'error')?.message), /no still 99999/);
  const file = await cli(['similar', 'still', join(dir, 'nope.png'), '--atlas', atlas, '--json']);
  assert.equal(file.code, 1);
  assert.match(
    String(file.lines.find((l) => l.event === 'error')?.message),
    /neither a still id nor an image file/,
  );
  const features = await cli([
    'similar',
    'movie',
    movies[0],
    '--atlas',
    atlas,
    '--features',
    'vgg16',
    '--json',
  ]);
  assert.equal(features.code, 1);
  assert.match(String(features.lines.find((l) => l.event === 'error')?.message), /no 'vgg16' features/);
});
