import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { openAtlas } from '../../src/atlas/atlas.js';
import { readLayout } from '../../src/atlas/layouts.js';
import { cli, filesUnder, resultOf } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** A points layout 'pts' for the atlas: `filmatlas map` (PCA of the colour features). */
async function pointsLayout(atlas: string): Promise<void> {
  const map = await cli([
    'map',
    '--atlas',
    atlas,
    '--features',
    'color',
    '--reduce',
    'pca',
    '--name',
    'pts',
    '--json',
  ]);
  assert.equal(map.code, 0, map.stderr);
}

const dir = tempDir();
const atlas = join(dir, 'atlas');

before(async () => {
  const src = join(dir, 'stills');
  assert.equal((await cli(['sample', src, '--movies', '3', '--stills', '8', '--width', '200'])).code, 0);
  assert.equal((await cli(['ingest', src, '--atlas', atlas, '--json'])).code, 0);
  assert.equal((await cli(['embed', '--atlas', atlas, '--model', 'color', '--json'])).code, 0);
  await pointsLayout(atlas);
});

test('grid → mosaic, deep zoom and plots through the CLI, on a sample atlas', async () => {
  // grid: 24 stills → 4×6, a bijection onto the cells, stats stored
  const g = await cli(['grid', '--atlas', atlas, '--layout', 'pts', '--name', 'g', '--json']);
  assert.equal(g.code, 0, g.stderr);
  const gr = resultOf(g);
  assert.deepEqual([gr.n, gr.cols, gr.rows, gr.method, gr.emptyCells], [24, 4, 6, 'transport', 0]);
  assert.ok(g.lines.some((l) => l.event === 'progress' && String(l.stage).startsWith('grid')));
  const a = await openAtlas(atlas, { readonly: true });
  const stored = readLayout(a, 'g');
  const pts = readLayout(a, 'pts');
  const stillSha = new Map((await a.catalog.stills('ready')).map((s) => [s.id, s.stdSha256!]));
  await a.close();
  assert.equal(stored.manifest.kind, 'grid');
  assert.deepEqual(stored.manifest.grid, { rows: 6, cols: 4 });
  assert.deepEqual(Array.from(stored.ids), Array.from(pts.ids));
  assert.ok(typeof stored.manifest.stats?.recall10 === 'number');
  const cells = new Set<number>();
  for (let i = 0; i < 24; i++) {
    const c = stored.xy[2 * i],
      r = stored.xy[2 * i + 1];
    assert.ok(Number.isInteger(c) && Number.isInteger(r) && c >= 0 && c < 4 && r >= 0 && r < 6);
    cells.add(r * 4 + c);
  }
  assert.equal(cells.size, 24);

  // a given shape with empty cells
  const wide = resultOf(
    await cli([
      'grid',
      '--atlas',
      atlas,
      '--layout',
      'pts',
      '--name',
      'g2',
      '--shape',
      '7x4',
      '--method',
      'split',
      '--json',
    ]),
  );
  assert.deepEqual([wide.cols, wide.rows, wide.emptyCells, wide.method], [7, 4, 4, 'split']);

  // mosaic: size from the cell size; a cell's colour is its still's
  const mosaic = join(dir, 'm.png');
  const m = await cli([
    'render',
    '--atlas',
    atlas,
    '--layout',
    'g',
    '--mosaic',
    mosaic,
    '--cell',
    '32x18',
    '--json',
  ]);
  assert.equal(m.code, 0, m.stderr);
  const { data, info } = await sharp(mosaic).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [128, 108]);
  for (const i of [0, 7, 23]) {
    const c = stored.xy[2 * i],
      r = stored.xy[2 * i + 1];
    const still = await sharp(
      join(atlas, 'stills', stillSha.get(stored.ids[i])!.slice(0, 2), `${stillSha.get(stored.ids[i])}.png`),
    )
      .resize(32, 18, { fit: 'fill' })
      .removeAlpha()
      .raw()
      .toBuffer();
    let diff = 0;
    for (let y = 0; y < 18; y++) {
      for (let x = 0; x < 32; x++) {
        for (let k = 0; k < 3; k++)
          diff += Math.abs(data[((r * 18 + y) * 128 + c * 32 + x) * 3 + k] - still[(y * 32 + x) * 3 + k]);
      }
    }
    assert.ok(
      diff / (32 * 18 * 3) < 3,
      `cell of still ${stored.ids[i]} differs by ${diff / (32 * 18 * 3)} on average`,
    );
  }

  // deep zoom: a complete pyramid under <dir>/<layout>
  const dz = await cli([
    'render',
    '--atlas',
    atlas,
    '--layout',
    'g',
    '--deepzoom',
    join(dir, 'dz'),
    '--json',
  ]);
  assert.equal(dz.code, 0, dz.stderr);
  const dzr = resultOf(dz).deepzoom as { width: number; height: number; levels: number; tiles: number };
  assert.deepEqual(
    [dzr.width, dzr.height, dzr.levels],
    [4 * 224, 6 * 126, Math.ceil(Math.log2(6 * 126)) + 1],
  );
  assert.match(readFileSync(join(dir, 'dz', 'g.dzi'), 'utf8'), /Width="896"/);
  const tiles = filesUnder(join(dir, 'dz', 'g_files'));
  assert.equal(tiles.length, dzr.tiles);
  assert.ok(existsSync(join(dir, 'dz', 'g_files', String(dzr.levels - 1), '3_2.jpeg')));
  assert.ok(existsSync(join(dir, 'dz', 'g_files', '0', '0_0.jpeg')));

  // plots: by look family (a movie attribute) as SVG, by director as PNG
  const svg = join(dir, 'p.svg');
  const p = await cli([
    'render',
    '--atlas',
    atlas,
    '--layout',
    'pts',
    '--plot',
    svg,
    '--color-by',
    'family',
    '--json',
  ]);
  assert.equal(p.code, 0, p.stderr);
  const text = readFileSync(svg, 'utf8');
  assert.equal((text.match(/<circle /g) ?? []).length, 24);
  assert.match(text, /<g id="legend"/);
  assert.match(text, />family</);
  const png = join(dir, 'p.png');
  assert.equal(
    (await cli(['render', '--atlas', atlas, '--layout', 'g', '--plot', png, '--color-by', 'director'])).code,
    0,
  );
  assert.equal((await sharp(png).metadata()).format, 'png');
});

test('grid and render: bad arguments name the value', async () => {
  // independent failures: run them side by side
  const [method, small, shape, missing, none, notGrid, cell, cluster, field, ext] = await Promise.all([
    cli(['grid', '--atlas', atlas, '--layout', 'pts', '--name', 'bad', '--method', 'hungarian']),
    cli(['grid', '--atlas', atlas, '--layout', 'pts', '--name', 'bad', '--shape', '4x5']),
    cli(['grid', '--atlas', atlas, '--layout', 'pts', '--name', 'bad', '--shape', 'big']),
    cli(['grid', '--atlas', atlas, '--layout', 'nope', '--name', 'bad']),
    cli(['render', '--atlas', atlas, '--layout', 'pts']),
    cli(['render', '--atlas', atlas, '--layout', 'pts', '--mosaic', join(dir, 'x.png')]),
    cli(['render', '--atlas', atlas, '--layout', 'pts', '--mosaic', join(dir, 'x.png'), '--cell', '112']),
    cli([
      'render',
      '--atlas',
      atlas,
      '--layout',
      'pts',
      '--plot',
      join(dir, 'c.svg'),
      '--color-by',
      'cluster',
    ]),
    cli([
      'render',
      '--atlas',
      atlas,
      '--layout',
      'pts',
      '--plot',
      join(dir, 'c.svg'),
      '--color-by',
      'budget',
    ]),
    cli(['render', '--atlas', atlas, '--layout', 'pts', '--plot', join(dir, 'c.gif')]),
  ]);
  assert.equal(method.code, 2);
  assert.match(
    method.stderr,
    /unknown grid method 'hungarian': must be one of \[transport, neighbours, split, rasterfairy\]/,
  );
  assert.equal(small.code, 2);
  assert.match(small.stderr, /4x5 has 20 cells, too few for 24 points/);
  assert.notEqual(shape.code, 0);
  assert.match(shape.stderr, /--shape but got 'big'/);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope/);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--mosaic FILE\.png, --deepzoom DIR or --plot/);
  assert.equal(notGrid.code, 2);
  assert.match(notGrid.stderr, /'pts' is a points layout; mosaics and deep zoom need a grid layout/);
  assert.equal(cell.code, 2);
  assert.match(cell.stderr, /--cell but got '112'/);
  assert.equal(cluster.code, 1);
  assert.match(cluster.stderr, /no clusters to colour by/);
  assert.equal(field.code, 2);
  assert.match(field.stderr, /cannot colour by 'budget': must be one of \[movie, cluster, director, year/);
  assert.equal(ext.code, 2);
  assert.match(ext.stderr, /c\.gif/);
  assert.ok(!existsSync(join(dir, 'atlas', 'maps', 'bad')), 'a failed grid writes no layout');
});
