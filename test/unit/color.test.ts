import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COLOR_DIM, colorFeatures, contentRows, labF } from '../../src/embed/color.js';
import { labToSrgb, srgbToHsl, srgbToLab } from '../../src/imaging/colour.js';
import type { RawImage } from '../../src/types.js';

function solid(r: number, g: number, b: number, w = 224, h = 126, bars = 0): RawImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = bars; y < h - bars; y++) for (let x = 0; x < w; x++) data.set([r, g, b], (y * w + x) * 3);
  return { data, width: w, height: h, channels: 3 };
}

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);
}

test('sRGB → CIELAB matches reference values (D65)', () => {
  const out = [0, 0, 0];
  srgbToLab(255, 255, 255, out);
  close(out[0], 100, 0.01, 'white L');
  close(out[1], 0, 0.01, 'white a');
  srgbToLab(255, 0, 0, out);
  // CIE Lab of sRGB red: 53.24, 80.09, 67.20
  close(out[0], 53.24, 0.05, 'red L');
  close(out[1], 80.09, 0.1, 'red a');
  close(out[2], 67.2, 0.1, 'red b');
  assert.deepEqual(labToSrgb(out[0], out[1], out[2]), [255, 0, 0]);
});

test('sRGB → HSL', () => {
  const out = [0, 0, 0];
  srgbToHsl(0, 0, 255, out);
  assert.deepEqual(out, [240, 1, 0.5]);
  srgbToHsl(128, 128, 128, out);
  assert.equal(out[1], 0);
});

test('colour features: histogram sums to 1, moments are right, letterbox bars are ignored', () => {
  const out = new Float32Array(COLOR_DIM);
  colorFeatures(solid(255, 0, 0), out);
  let sum = 0;
  for (let i = 0; i < 192; i++) sum += out[i];
  close(sum, 1, 1e-5, 'histogram sum');
  close(out[192] * 100, 53.24, 0.05, 'mean L');
  close(out[195], 0, 1e-4, 'std L of a flat image');
  const barred = new Float32Array(COLOR_DIM);
  colorFeatures(solid(255, 0, 0, 224, 126, 20), barred);
  assert.deepEqual(contentRows(solid(255, 0, 0, 224, 126, 20)), [20, 106]);
  for (let i = 0; i < COLOR_DIM; i++) close(barred[i], out[i], 1e-5, `feature ${i} with bars`);
  assert.ok(out.every((v) => Number.isFinite(v)));
});

test('different grades give distant features, same grade close', () => {
  const warm = new Float32Array(COLOR_DIM);
  const warm2 = new Float32Array(COLOR_DIM);
  const cold = new Float32Array(COLOR_DIM);
  colorFeatures(solid(200, 140, 60), warm);
  colorFeatures(solid(205, 138, 64), warm2);
  colorFeatures(solid(60, 110, 190), cold);
  const d = (a: Float32Array, b: Float32Array) => Math.hypot(...a.map((v, i) => v - b[i]));
  assert.ok(d(warm, warm2) < d(warm, cold) / 5, `${d(warm, warm2)} vs ${d(warm, cold)}`);
});

test('an all-black still keeps all rows and gives finite features', () => {
  const out = new Float32Array(COLOR_DIM);
  colorFeatures(solid(0, 0, 0), out);
  assert.ok(out.every((v) => Number.isFinite(v)));
  close(out[192], 0, 1e-6, 'mean L');
});

test('the tabled cube root of CIELAB f(t) stays within 2e-6 of Math.cbrt, and is linear below ε', () => {
  let worst = 0;
  for (let t = 0.008857; t < 1.2; t += 3.7e-5)
    worst = Math.max(worst, Math.abs(labF(t) - Math.cbrt(t)) / Math.cbrt(t));
  assert.ok(worst < 2e-6, `worst relative error ${worst}`);
  assert.equal(labF(0), 16 / 116);
  assert.equal(labF(8), 2);
});
