import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { AtlasError } from '../../src/errors.js';
import { fromSpace, hslToSrgb, parseHex, rgbToLab, toSpace } from '../../src/imaging/palette-colour.js';
import { emd } from '../../src/looks/emd.js';
import {
  clusterColours,
  describePalette,
  mergePalettes,
  stillPalette,
  writeSwatchPng,
} from '../../src/looks/palette.js';
import { paletteDistance, parseColourQuery } from '../../src/looks/search.js';
import { sharedColours } from '../../src/looks/similar.js';
import type { RawImage } from '../../src/types.js';
import { tempDir } from '../helpers/tmp.js';

/** A 224×126 still: `bars` black rows top and bottom, then the left `split` of the width colour a, the rest colour b. */
function twoColourStill(
  a: [number, number, number],
  b: [number, number, number],
  split: number,
  bars = 0,
): RawImage {
  const width = 224,
    height = 126;
  const data = new Uint8Array(width * height * 3);
  for (let y = bars; y < height - bars; y++) {
    for (let x = 0; x < width; x++) data.set(x < split * width ? a : b, (y * width + x) * 3);
  }
  return { data, width, height, channels: 3 };
}

const ORANGE: [number, number, number] = [224, 138, 60];
const TEAL: [number, number, number] = [31, 90, 100];

test('a still palette finds its colours with their pixel shares, largest first, and ignores letterbox bars', () => {
  const img = twoColourStill(ORANGE, TEAL, 0.75, 20);
  for (const space of ['lab', 'hsl', 'rgb'] as const) {
    const { palette, mean } = stillPalette(img, { k: 2, space });
    const cols = describePalette(palette);
    assert.equal(cols.length, 2, space);
    assert.equal(cols[0].hex, '#e08a3c', space);
    assert.equal(cols[1].hex, '#1f5a64', space);
    // 168 of 224 columns are orange; the black bars do not count.
    assert.ok(Math.abs(cols[0].share - 0.75) < 0.01, `${space}: ${cols[0].share}`);
    assert.ok(Math.abs(cols[0].share + cols[1].share - 1) < 1e-3);
    // The mean colour lies between the two in L.
    const la = rgbToLab(...ORANGE)[0],
      lb = rgbToLab(...TEAL)[0];
    assert.ok(mean[0] > Math.min(la, lb) && mean[0] < Math.max(la, lb));
  }
  // Fewer distinct colours than k: the extra slots are empty, not invented.
  const { palette } = stillPalette(img, { k: 6 });
  assert.equal(describePalette(palette).length, 2);
});

test('palettes are deterministic for a seed and k is validated', () => {
  const img = twoColourStill(ORANGE, TEAL, 0.5);
  // Add a gradient so k-means has real choices.
  for (let i = 0; i < img.data.length; i += 3) img.data[i + 1] = (img.data[i + 1] + ((i / 3) % 224)) & 0xff;
  const a = stillPalette(img, { k: 5, seed: 3 }).palette;
  const b = stillPalette(img, { k: 5, seed: 3 }).palette;
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.throws(
    () => stillPalette(img, { k: 0 }),
    (e: unknown) => e instanceof AtlasError && /--k/.test(e.message),
  );
  assert.throws(() => stillPalette(img, { k: 17 }), AtlasError);
  assert.throws(
    () => clusterColours(new Float32Array(3), new Float64Array(1), { space: 'cmyk' as 'lab' }),
    /must be one of \[lab, hsl, rgb\]/,
  );
});

test('colour space helpers round-trip and hex parsing names bad values', () => {
  for (const rgb of [ORANGE, TEAL, [0, 0, 0], [255, 255, 255], [12, 200, 7]] as [number, number, number][]) {
    for (const space of ['lab', 'hsl', 'rgb'] as const) {
      const p = [0, 0, 0];
      toSpace(space, rgb[0], rgb[1], rgb[2], p);
      const back = fromSpace(space, p[0], p[1], p[2]);
      back.forEach((v, i) => assert.ok(Math.abs(v - rgb[i]) <= 1, `${space} ${rgb} → ${back}`));
    }
  }
  assert.deepEqual(hslToSrgb(0, 1, 0.5), [255, 0, 0]);
  assert.deepEqual(hslToSrgb(240, 1, 0.25), [0, 0, 128]);
  assert.deepEqual(parseHex('#abc'), [170, 187, 204]);
  assert.deepEqual(parseHex('1F3A4D'), [31, 58, 77]);
  assert.throws(
    () => parseHex('#12345g', 'colours'),
    /expected a hex colour like #1f3a4d for colours but got '#12345g'/,
  );
});

test('a movie palette merges its stills’ palettes by share', () => {
  const p1 = stillPalette(twoColourStill(ORANGE, TEAL, 1), { k: 3 }).palette; // all orange
  const p2 = stillPalette(twoColourStill(TEAL, ORANGE, 1), { k: 3 }).palette; // all teal
  const p3 = stillPalette(twoColourStill(TEAL, ORANGE, 1), { k: 3 }).palette;
  const merged = describePalette(mergePalettes([p1, p2, p3], { k: 2 }));
  assert.equal(merged[0].hex, '#1f5a64');
  assert.ok(Math.abs(merged[0].share - 2 / 3) < 1e-3);
  assert.equal(merged[1].hex, '#e08a3c');
});

test('earth mover’s distance: zero for equal palettes, the ground cost for point masses, optimal plans', () => {
  assert.equal(emd([1], [1], [7]).distance, 7);
  assert.ok(emd([0.5, 0.5], [0.5, 0.5], [0, 10, 10, 0]).distance < 1e-12);
  // Crossed costs: the plan must not take the expensive diagonal.
  const r = emd([0.5, 0.5], [0.5, 0.5], [10, 1, 1, 10]);
  assert.ok(Math.abs(r.distance - 1) < 1e-9);
  assert.ok(Math.abs(r.flow[1] - 0.5) < 1e-9 && Math.abs(r.flow[2] - 0.5) < 1e-9);
  // Unequal sizes and masses (normalised): 0.7 stays (cost 0), 0.3 moves at cost 2 or 5 → 0.3·2.
  const u = emd([0.7, 0.3], [0.7, 0.2, 0.1], [0, 4, 4, 9, 2, 2]);
  assert.ok(Math.abs(u.distance - 0.6) < 1e-9, String(u.distance));
  // A brute-force check on random 3×3 problems: no permutation plan beats it.
  for (let t = 0; t < 20; t++) {
    const c = Array.from({ length: 9 }, (_, i) => ((i * 7 + t * 13) % 11) + 1);
    const e = emd([1, 1, 1], [1, 1, 1], c).distance;
    let best = Infinity;
    for (const p of [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ])
      best = Math.min(best, (c[p[0]] + c[3 + p[1]] + c[6 + p[2]]) / 3);
    assert.ok(Math.abs(e - best) < 1e-9, `${e} vs ${best}`); // uniform assignment LPs have permutation optima
  }
});

test('colour search distance and matched colours; shared colours between movie palettes', () => {
  const p = stillPalette(twoColourStill(ORANGE, TEAL, 0.5), { k: 2 }).palette;
  const exact = paletteDistance(parseColourQuery('#e08a3c,#1f5a64'), p);
  assert.ok(exact.distance < 0.5, String(exact.distance));
  assert.deepEqual(
    exact.matches.map((m) => [m.query, m.matched]),
    [
      ['#e08a3c', '#e08a3c'],
      ['#1f5a64', '#1f5a64'],
    ],
  );
  const far = paletteDistance(parseColourQuery('#ff00ff'), p);
  assert.ok(far.distance > 40);
  assert.deepEqual(
    parseColourQuery('#e08a3c:3, #1f5a64:1').map((c) => c.weight),
    [3, 1],
  );
  assert.throws(() => parseColourQuery('#e08a3c:-1'), AtlasError);
  assert.throws(() => parseColourQuery(''), AtlasError);
  const q = stillPalette(twoColourStill(ORANGE, [200, 30, 200], 0.5), { k: 2 }).palette;
  const s = sharedColours(p, q);
  assert.deepEqual(
    s.shared.map((c) => [c.a, c.b]),
    [['#e08a3c', '#e08a3c']],
  );
  assert.ok(s.distance > 10);
});

test('a swatch PNG draws each colour as wide as its share', async () => {
  const dir = tempDir();
  const p = stillPalette(twoColourStill(ORANGE, TEAL, 0.75), { k: 2 }).palette;
  const out = join(dir, 'swatch.png');
  const r = await writeSwatchPng(out, [p, p], { width: 400, bandHeight: 10 });
  assert.deepEqual([r.width, r.height], [400, 20]);
  const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [400, 20]);
  const px = (x: number, y: number): number[] =>
    Array.from(data.subarray((y * 400 + x) * 3, (y * 400 + x) * 3 + 3));
  assert.deepEqual(px(290, 5), ORANGE);
  assert.deepEqual(px(310, 15), TEAL);
});
