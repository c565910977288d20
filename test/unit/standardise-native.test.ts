/**
 * The native JPEG path (native/jpeg_still.c) against sharp: the same stills within a
 * fraction of a grey level, the same verdicts on hostile files, and every JPEG it must
 * not take (CMYK, rotated, with an ICC profile, smaller than the still, damaged) left to sharp.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp, { type JpegOptions } from 'sharp';
import { AtlasError } from '../../src/errors.js';
import { decodeJpegNative, nativeJpegAvailable, nativeJpegStatus } from '../../src/imaging/native-jpeg.js';
import {
  standardiseImage,
  stillGeometry,
  type StandardisedStill,
  type StandardiseOptions,
} from '../../src/imaging/standardise.js';
import { writeHostileFiles } from '../../src/sources/hostile.js';
import { tempDir } from '../helpers/tmp.js';

const skip = nativeJpegAvailable() ? false : `native JPEG path unavailable: ${nativeJpegStatus()}`;

/** Runs `fn` with the native path on or off, restoring the environment after. */
async function withNative<T>(on: boolean, fn: () => Promise<T>): Promise<T> {
  const before = process.env.FILMATLAS_NATIVE;
  process.env.FILMATLAS_NATIVE = on ? '1' : '0';
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.FILMATLAS_NATIVE;
    else process.env.FILMATLAS_NATIVE = before;
  }
}

/** The still with and without the native path (one after the other: the switch is process-wide). */
async function both(
  input: Buffer,
  options?: StandardiseOptions,
): Promise<[StandardisedStill, StandardisedStill]> {
  const native = await withNative(true, () => standardiseImage(input, options));
  return [native, await withNative(false, () => standardiseImage(input, options))];
}

/** A film-like JPEG: a gradient, a few shapes, sensor noise; deterministic. */
async function filmJpeg(
  width: number,
  height: number,
  seed: number,
  jpeg: JpegOptions = {},
): Promise<Buffer> {
  let s = seed;
  const rand = (): number => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const raw = Buffer.alloc(width * height * 3);
  const boxes = Array.from({ length: 6 }, () => [
    rand() * width,
    rand() * height,
    rand() * width * 0.4,
    rand() * height * 0.4,
    rand() * 255,
  ]);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let v = (x / width) * 180 + (y / height) * 60;
      for (const [bx, by, bw, bh, c] of boxes) if (x > bx && x < bx + bw && y > by && y < by + bh) v = c;
      const i = (y * width + x) * 3;
      raw[i] = Math.max(0, Math.min(255, v + (rand() - 0.5) * 20));
      raw[i + 1] = Math.max(0, Math.min(255, v * 0.8 + (rand() - 0.5) * 20));
      raw[i + 2] = Math.max(0, Math.min(255, 255 - v + (rand() - 0.5) * 20));
    }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90, ...jpeg })
    .toBuffer();
}

function difference(a: StandardisedStill, b: StandardisedStill): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.pixels.data.length; i++) {
    const d = Math.abs(a.pixels.data[i] - b.pixels.data[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.pixels.data.length, max };
}

test('the native path is used where it is built', { skip }, async () => {
  const input = await filmJpeg(500, 213, 1);
  const g = stillGeometry(500, 213);
  const out = await withNative(true, () => decodeJpegNative(input, g.width, g.height, 'warning'));
  assert.ok(out, 'an RGB JPEG takes the native path');
  assert.deepEqual([out.width, out.height, out.data.length], [224, 95, 224 * 95 * 3]);
  assert.equal(
    await withNative(false, () => decodeJpegNative(input, g.width, g.height, 'warning')),
    undefined,
    'FILMATLAS_NATIVE=0 turns it off',
  );
});

test('native and sharp stills agree on every geometry and JPEG flavour', { skip }, async () => {
  const cases: [string, Buffer, StandardiseOptions?][] = [
    ['2.35:1 500×213 (letterbox, shrink on load)', await filmJpeg(500, 213, 2)],
    ['2.40:1 1920×800 (shrink on load by 4)', await filmJpeg(1920, 800, 3)],
    ['16:9 448×252 (no bars)', await filmJpeg(448, 252, 4)],
    ['4:3 640×480 (centre crop)', await filmJpeg(640, 480, 5)],
    ['4:3 640×480 contain (pillarbox)', await filmJpeg(640, 480, 5), { fit: 'contain' }],
    ['2.35:1 cover (side crop)', await filmJpeg(500, 213, 6), { fit: 'cover' }],
    ['progressive', await filmJpeg(600, 300, 8, { progressive: true })],
    ['4:4:4 chroma', await filmJpeg(600, 300, 9, { chromaSubsampling: '4:4:4' })],
  ];
  for (const [name, input, options] of cases) {
    const [native, viaSharp] = await both(input, options);
    const d = difference(native, viaSharp);
    assert.ok(d.mean < 0.6, `${name}: mean difference ${d.mean.toFixed(3)} grey levels`);
    assert.deepEqual(
      [native.width, native.height, native.format],
      [viaSharp.width, viaSharp.height, viaSharp.format],
      name,
    );
    const decoded = await sharp(native.png).raw().toBuffer();
    assert.ok(decoded.equals(Buffer.from(native.pixels.data)), `${name}: the PNG holds the returned pixels`);
  }
  const grey = await sharp(await filmJpeg(500, 213, 10))
    .greyscale()
    .jpeg()
    .toBuffer();
  const [native, viaSharp] = await both(grey);
  assert.ok(difference(native, viaSharp).mean < 0.6, 'greyscale JPEG');
  for (let i = 0; i < native.pixels.data.length; i += 3) {
    assert.ok(
      native.pixels.data[i] === native.pixels.data[i + 1] &&
        native.pixels.data[i] === native.pixels.data[i + 2],
      'grey stays grey',
    );
  }
});

test('JPEGs the native path must not take are left to sharp, pixel for pixel', { skip }, async () => {
  const base = await filmJpeg(480, 270, 11);
  const inputs: [string, Buffer][] = [
    ['enlarged (40×24)', await filmJpeg(40, 24, 7)],
    ['EXIF-rotated', await sharp(base).withMetadata({ orientation: 6 }).jpeg().toBuffer()],
    ['with an ICC profile', await sharp(base).withIccProfile('p3').jpeg().toBuffer()],
    ['CMYK', await sharp(base).toColourspace('cmyk').jpeg().toBuffer()],
  ];
  for (const [name, input] of inputs) {
    const [a, b] = await both(input);
    assert.ok(
      Buffer.from(a.pixels.data).equals(Buffer.from(b.pixels.data)),
      `${name}: identical with and without the native path`,
    );
  }
  const cmyk = inputs[3][1];
  assert.equal(
    await withNative(true, () => decodeJpegNative(cmyk, 224, 126, 'warning')),
    undefined,
    'CMYK is declined by the addon itself',
  );
});

test('hostile files get the same verdict and reason with and without the native path', { skip }, async () => {
  const dir = tempDir('filmatlas-native-');
  for (const c of await writeHostileFiles(dir)) {
    const input = await readFile(join(dir, c.file));
    const verdict = (on: boolean): Promise<string> =>
      withNative(on, () => standardiseImage(input)).then(
        (s) => `standardised, ${s.width}×${s.height} ${s.format}`,
        (err: Error) => `rejected: ${err.message}`,
      );
    assert.equal(await verdict(true), await verdict(false), c.file);
  }
  // failOn 'none' lets a truncated JPEG through on both paths alike.
  const truncated = await readFile(join(dir, '14-truncated.jpg'));
  const [a, b] = await both(truncated, { failOn: 'none' });
  assert.ok(difference(a, b).mean < 0.6, 'truncated JPEG decoded with failOn none');
});

test('the addon checks its arguments', { skip }, async () => {
  const input = await filmJpeg(64, 36, 12);
  const { createRequire } = await import('node:module');
  const addon = createRequire(import.meta.url)('../../native/build/Release/filmatlas_native.node') as {
    decodeJpeg: (...args: unknown[]) => Promise<unknown>;
  };
  assert.throws(() => addon.decodeJpeg('not bytes', 224, 126, 3), /Uint8Array/);
  assert.throws(() => addon.decodeJpeg(input, 0, 126, 3), /1–65535/);
  assert.throws(() => addon.decodeJpeg(input, 224, 126, 9), /failOn 0–3/);
  await assert.rejects(
    addon.decodeJpeg(Buffer.from('not a jpeg'), 224, 126, 3) as Promise<unknown>,
    /libjpeg: Not a JPEG file/,
  );
});

test(
  'damaged JPEGs (bytes changed, cut short, headers scrambled) never crash and get the same verdict both ways',
  { skip },
  async () => {
    const bases = [await filmJpeg(500, 213, 20), await filmJpeg(640, 480, 21, { progressive: true })];
    let seed = 777;
    const rand = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const levels = ['warning', 'none', 'error', 'truncated'] as const;
    const verdicts = { standardised: 0, rejected: 0 };
    for (let i = 0; i < 240; i++) {
      const bytes = Buffer.from(bases[i % bases.length]);
      let input = bytes;
      if (i % 3 === 0)
        for (let k = 0; k < 1 + rand() * 20; k++) bytes[Math.floor(rand() * bytes.length)] = rand() * 256;
      else if (i % 3 === 1) input = bytes.subarray(0, Math.floor(rand() * bytes.length));
      else bytes.fill(Math.floor(rand() * 256), 2 + Math.floor(rand() * 600), 10 + Math.floor(rand() * 600));
      const options = { failOn: levels[i % levels.length] };
      const verdict = (on: boolean): Promise<string> =>
        withNative(on, () => standardiseImage(input, options)).then(
          () => 'standardised',
          (err: unknown) => {
            assert.ok(err instanceof AtlasError && err.code === 'BAD_IMAGE', `variant ${i}: ${String(err)}`);
            return 'rejected';
          },
        );
      const native = await verdict(true);
      assert.equal(native, await verdict(false), `variant ${i} (failOn ${options.failOn})`);
      verdicts[native as keyof typeof verdicts]++;
    }
    assert.ok(
      verdicts.standardised > 20 && verdicts.rejected > 20,
      `both outcomes exercised: ${JSON.stringify(verdicts)}`,
    );
  },
);
