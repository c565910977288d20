import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { AtlasError } from '../../src/errors.js';
import { Random } from '../../src/numeric/random.js';
import { decodeRgb } from '../../src/atlas/stills.js';
import { gridPicture, parseCellSize, type CellImages, type GridPicture } from '../../src/render/cells.js';
import { dziLevels, dziXml, renderDeepZoom } from '../../src/render/deepzoom.js';
import { renderMosaic } from '../../src/render/mosaic.js';
import { renderPlot, scatterSvg } from '../../src/render/plot.js';
import { PngStreamWriter } from '../../src/render/png.js';
import { tempDir } from '../helpers/tmp.js';

/** A solid colour per still id, derived from the id. */
function colourOf(id: number): [number, number, number] {
  return [(id * 53) % 256, (id * 97 + 40) % 256, (id * 151 + 90) % 256];
}

function solidImages(): CellImages & { calls: number } {
  const state = { calls: 0, missing: 0 };
  return {
    get calls() {
      return state.calls;
    },
    get missing() {
      return state.missing;
    },
    async get(id, w, h) {
      state.calls++;
      if (id === 999) {
        state.missing++;
        return null;
      }
      const px = new Uint8Array(w * h * 3);
      const [r, g, b] = colourOf(id);
      for (let i = 0; i < w * h; i++) px.set([r, g, b], 3 * i);
      return px;
    },
  };
}

/** A cols×rows grid with items in most cells, two cells empty, still ids 1…n. */
function sampleGrid(cols: number, rows: number): GridPicture {
  const xy: number[] = [];
  const ids: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if ((r === 0 && c === 1) || (r === rows - 1 && c === cols - 1)) continue; // empty cells
      xy.push(c, r);
      ids.push(ids.length + 1);
    }
  }
  return gridPicture(cols, rows, xy, Uint32Array.from(ids));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

test('PngStreamWriter: bands of rows decode to exactly the pixels written', async () => {
  const dir = tempDir();
  const w = 123,
    h = 77;
  const rng = new Random(2);
  const img = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i % 7 === 0 ? rng.int(256) : (i * 13) & 255));
  const png = new PngStreamWriter(join(dir, 'a.png'), w, h);
  for (let y = 0; y < h; y += 10) await png.writeRows(img.subarray(y * w * 3), Math.min(10, h - y));
  await png.close();
  const { data, info } = await sharp(join(dir, 'a.png')).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [w, h, 3]);
  assert.ok(Buffer.from(img).equals(data));
  const short = new PngStreamWriter(join(dir, 'b.png'), 4, 4);
  await short.writeRows(new Uint8Array(4 * 3 * 2), 2);
  await assert.rejects(short.close(), /4 rows but 2 were written/);
  short.destroy();
});

test('mosaic: each cell is its still, empty and missing cells black', async () => {
  const dir = tempDir();
  const grid = sampleGrid(5, 4);
  grid.ids[3] = 999; // an unreadable still
  const images = solidImages();
  const out = join(dir, 'm.png');
  const r = await renderMosaic(grid, images, out, { cellWidth: 8, cellHeight: 6 });
  assert.deepEqual([r.width, r.height, r.cells, r.missing], [40, 24, 20, 1]);
  const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [40, 24]);
  for (let row = 0; row < 4; row++) {
    for (let col = 0; col < 5; col++) {
      const item = grid.cells[row * 5 + col];
      const want = item < 0 || grid.ids[item] === 999 ? [0, 0, 0] : colourOf(grid.ids[item]);
      for (const [dx, dy] of [
        [0, 0],
        [7, 5],
        [3, 2],
      ]) {
        const o = ((row * 6 + dy) * 40 + col * 8 + dx) * 3;
        assert.deepEqual(
          Array.from(data.subarray(o, o + 3)),
          want,
          `cell (${col}, ${row}) pixel (${dx}, ${dy})`,
        );
      }
    }
  }
});

test('mosaic: a real still is scaled into its cell; too big a mosaic points to --deepzoom', async () => {
  const dir = tempDir();
  // a 224×126 still: left half red, right half blue
  const still = new Uint8Array(224 * 126 * 3);
  for (let y = 0; y < 126; y++)
    for (let x = 0; x < 224; x++) still.set(x < 112 ? [220, 20, 20] : [20, 20, 220], (y * 224 + x) * 3);
  const png = await sharp(still, { raw: { width: 224, height: 126, channels: 3 } })
    .png()
    .toBuffer();
  const cell = await decodeRgb(png, 16, 9);
  assert.deepEqual(Array.from(cell.subarray(0, 3)), [220, 20, 20]);
  assert.deepEqual(Array.from(cell.subarray((8 * 16 + 15) * 3, (8 * 16 + 15) * 3 + 3)), [20, 20, 220]);

  const grid = sampleGrid(300, 200);
  await assert.rejects(
    renderMosaic(grid, solidImages(), join(dir, 'big.png'), {
      cellWidth: 112,
      cellHeight: 63,
      maxPixels: 100e6,
    }),
    (e: unknown) =>
      e instanceof AtlasError && /33600×12600 px/.test(e.message) && /--deepzoom/.test(e.suggestion ?? ''),
  );
  assert.deepEqual(parseCellSize('112x63'), { width: 112, height: 63 });
  assert.throws(() => parseCellSize('112'), /for --cell but got '112'/);
  assert.throws(() => parseCellSize('0x5'), /for --cell but got '0x5'/);
});

test('deep zoom: every level and tile present with the sizes sharp .tile() writes; pixels right at every level', async () => {
  const dir = tempDir();
  const grid = sampleGrid(7, 5);
  const images = solidImages();
  const cw = 100,
    ch = 90; // 700 × 450 px: 3×2 tiles at the top level
  const r = await renderDeepZoom(grid, images, join(dir, 'ours', 'out'), { cellWidth: cw, cellHeight: ch });
  assert.deepEqual([r.width, r.height], [700, 450]);
  assert.equal(r.levels, Math.ceil(Math.log2(700)) + 1);
  assert.equal(r.levels, dziLevels(700, 450));
  assert.equal(images.calls, 33); // each still drawn once
  assert.equal(readFileSync(join(dir, 'ours', 'out.dzi'), 'utf8'), dziXml(700, 450));

  // The reference: sharp's own dzsave of an image of the same size.
  await sharp({ create: { width: 700, height: 450, channels: 3, background: '#000' } })
    .tile({ size: 256, overlap: 0 })
    .toFile(join(dir, 'ref', 'out.dz'));
  assert.equal(
    readFileSync(join(dir, 'ours', 'out.dzi'), 'utf8'),
    readFileSync(join(dir, 'ref', 'out.dzi'), 'utf8'),
  );
  const ours = filesUnder(join(dir, 'ours', 'out_files'));
  const ref = filesUnder(join(dir, 'ref', 'out_files')).filter((f) => f.endsWith('.jpeg'));
  assert.deepEqual(ours, ref);
  assert.equal(ours.length, r.tiles);
  for (const f of ours) {
    const [a, b] = await Promise.all([
      sharp(join(dir, 'ours', 'out_files', f)).metadata(),
      sharp(join(dir, 'ref', 'out_files', f)).metadata(),
    ]);
    assert.deepEqual([a.width, a.height, a.format], [b.width, b.height, b.format], f);
    assert.ok(statSync(join(dir, 'ours', 'out_files', f)).size > 0);
  }
  // Top level: the middle of a cell is its still's colour (JPEG: within a few levels).
  const close = (got: number[], want: number[], what: string): void =>
    assert.ok(
      got.every((v, k) => Math.abs(v - want[k]) <= 12),
      `${what}: ${got} vs ${want}`,
    );
  const pixel = async (file: string, x: number, y: number): Promise<number[]> => {
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    const o = (y * info.width + x) * info.channels;
    return Array.from(data.subarray(o, o + 3));
  };
  const top = r.levels - 1;
  // cell (3, 3): x 300–399 → tile column 1 (256–511), y 270–359 → tile row 1
  const item = grid.cells[3 * 7 + 3];
  close(
    await pixel(join(dir, 'ours', 'out_files', `${top}`, '1_1.jpeg'), 350 - 256, 315 - 256),
    colourOf(grid.ids[item]),
    'top level',
  );
  // one level down (350 × 225): the same cell's middle at (175, 157)
  close(
    await pixel(join(dir, 'ours', 'out_files', `${top - 1}`, '0_0.jpeg'), 175, 157),
    colourOf(grid.ids[item]),
    'level below',
  );
  // the 1×1 level is the mean colour of the whole image
  let mean = [0, 0, 0];
  for (let c = 0; c < grid.cells.length; c++) {
    const it = grid.cells[c];
    const col = it < 0 ? [0, 0, 0] : colourOf(grid.ids[it]);
    mean = mean.map((v, k) => v + col[k] / grid.cells.length);
  }
  // (a 2×2 box cascade over odd sizes weighs the last rows and columns a little more, as libvips's does)
  const one = await pixel(join(dir, 'ours', 'out_files', '0', '0_0.jpeg'), 0, 0);
  assert.ok(
    one.every((v, k) => Math.abs(v - mean[k]) <= 20),
    `1×1 level: ${one} vs ${mean}`,
  );
});

test('plot: SVG has the points and a legend of the top categories plus "other"; PNG is written', async () => {
  const dir = tempDir();
  const n = 400;
  const rng = new Random(9);
  const xy = Float64Array.from({ length: 2 * n }, () => rng.normal());
  const labels = Array.from({ length: n }, (_, i) => (i % 10 === 9 ? null : `dir <${i % 5}> & co`));
  labels[0] = 'rare';
  const { svg, legend } = scatterSvg(xy, labels, { top: 3, legendTitle: 'director' });
  assert.equal((svg.match(/<circle /g) ?? []).length, n);
  assert.equal(legend.length, 4);
  assert.equal(legend[3].label, 'other');
  assert.equal(
    legend.reduce((s, e) => s + e.count, 0),
    n,
  );
  assert.match(svg, /<g id="legend"/);
  assert.ok(svg.includes('dir &lt;1&gt; &amp; co (80)'), 'escaped legend label with its count'); // <0> lost one still to 'rare'
  assert.match(svg, />other \(\d+\)</);
  assert.match(svg, />director</);
  const svgOut = await renderPlot(xy, labels, join(dir, 'p.svg'), { top: 3 });
  assert.equal(svgOut.format, 'svg');
  assert.match(readFileSync(join(dir, 'p.svg'), 'utf8'), /^<\?xml/);
  const pngOut = await renderPlot(xy, labels, join(dir, 'p.png'), { width: 800, height: 600 });
  const meta = await sharp(pngOut.path).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 800, 600]);
  await assert.rejects(renderPlot(xy, labels, join(dir, 'p.gif')), /for --plot but got '.*p\.gif'/);
});
