import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import sharp, { type Metadata } from 'sharp';
import { AtlasError } from '../../src/errors.js';
import {
  crc32,
  encodeRgbPng,
  FITS,
  STILL_HEIGHT,
  STILL_WIDTH,
  standardiseImage,
  stillGeometry,
  type StandardisedStill,
  type StandardiseOptions,
} from '../../src/imaging/standardise.js';
import { HOSTILE_COLOURS, writeHostileFiles } from '../../src/sources/hostile.js';
import { tempDir } from '../helpers/tmp.js';

type Rgb = readonly [number, number, number];
const { red, blue, green, magenta, yellow, cyan } = HOSTILE_COLOURS;
const BLACK: Rgb = [0, 0, 0];
const WHITE: Rgb = [255, 255, 255];

const dir = tempDir('filmatlas-standardise-');
const cases = await writeHostileFiles(dir);
const read = (file: string): Promise<Buffer> => readFile(join(dir, file));

function pixel(still: StandardisedStill, x: number, y: number): Rgb {
  const i = (y * STILL_WIDTH + x) * 3;
  const d = still.pixels.data;
  return [d[i], d[i + 1], d[i + 2]];
}

function assertColour(actual: Rgb, expected: Rgb, tolerance: number, where: string): void {
  const off = Math.max(...actual.map((v, c) => Math.abs(v - expected[c])));
  assert.ok(
    off <= tolerance,
    `${where}: got (${actual.join(', ')}), expected (${expected.join(', ')}) ± ${tolerance}`,
  );
}

/** The PNG is what the pipeline stores: 224×126, 3 channels, 8 bits, no alpha, and decodes to `pixels`. */
async function assertStill(still: StandardisedStill): Promise<void> {
  const meta = await sharp(still.png).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, STILL_WIDTH);
  assert.equal(meta.height, STILL_HEIGHT);
  assert.equal(meta.channels, 3);
  assert.equal(meta.depth, 'uchar');
  assert.equal(meta.hasAlpha, false);
  assert.equal(meta.space, 'srgb');
  assert.deepEqual(
    [still.pixels.width, still.pixels.height, still.pixels.channels],
    [STILL_WIDTH, STILL_HEIGHT, 3],
  );
  const decoded = await sharp(still.png).raw().toBuffer();
  assert.ok(decoded.equals(Buffer.from(still.pixels.data)), 'the PNG decodes to exactly the returned pixels');
}

function expectBadImage(reason: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof AtlasError, `expected an AtlasError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_IMAGE');
    assert.match(err.message, reason);
    return true;
  };
}

/** A solid-colour image painted by `paint(x, y)`, encoded losslessly. */
function painted(width: number, height: number, paint: (x: number, y: number) => Rgb): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(paint(x, y), (y * width + x) * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** What each accepted hostile file must look like after standardisation, beyond being a valid still. */
const CONTENT_CHECKS: Record<string, (still: StandardisedStill, original: Metadata) => void> = {
  '01-exif-rotated.jpg': (still, original) => {
    assert.equal(original.orientation, 6, 'fixture carries EXIF orientation 6');
    assert.deepEqual([still.width, still.height], [96, 160], 'size reported after orientation');
    // Displayed upright it is blue on the left and red on the right (stored: red above blue).
    assertColour(pixel(still, 20, 63), blue, 12, 'left');
    assertColour(pixel(still, 203, 63), red, 12, 'right');
    assertColour(pixel(still, 20, 5), blue, 12, 'top left: no bars, taller than 16:9 is cropped');
  },
  '02-greyscale.jpg': (still, original) => {
    assert.equal(original.channels, 1, 'fixture is single-channel');
    for (const [x, y] of [
      [5, 5],
      [112, 63],
      [218, 120],
    ])
      assertColour(pixel(still, x, y), [100, 100, 100], 3, `(${x}, ${y})`);
  },
  '03-palette.png': (still, original) => {
    assert.equal(original.isPalette, true, 'fixture is a palette PNG');
    assertColour(pixel(still, 30, 63), green, 2, 'left');
    assertColour(pixel(still, 190, 63), magenta, 2, 'right');
  },
  '04-rgba.png': (still, original) => {
    assert.equal(original.channels, 4, 'fixture is RGBA');
    // The top half is fully transparent red: alpha dropped, colour kept (not black, not white).
    assertColour(pixel(still, 112, 10), red, 2, 'transparent red region');
    assertColour(pixel(still, 5, 50), red, 2, 'transparent red region near the edge');
    assertColour(pixel(still, 112, 115), blue, 2, 'opaque blue region');
  },
  '05-grey-alpha.png': (still, original) => {
    assert.equal(original.channels, 2, 'fixture is grey + alpha');
    assertColour(pixel(still, 30, 63), [200, 200, 200], 2, 'transparent grey 200 region');
    assertColour(pixel(still, 190, 63), [50, 50, 50], 2, 'opaque grey 50 region');
  },
  '06-cmyk.jpg': (still, original) => {
    assert.equal(original.space, 'cmyk', 'fixture is CMYK');
    const [r, g, b] = pixel(still, 112, 63);
    assert.ok(r > 180 && g < 90 && b < 90, `CMYK red comes back roughly red in sRGB: (${r}, ${g}, ${b})`);
  },
  '07-rgb16.png': (still, original) => {
    assert.equal(original.depth, 'ushort', 'fixture is 16-bit');
    assertColour(pixel(still, 112, 63), [192, 64, 128], 1, 'centre');
  },
  '08-animated.gif': (still, original) => {
    assert.ok((original.pages ?? 1) >= 2, 'fixture is animated');
    for (const [x, y] of [
      [5, 5],
      [112, 63],
      [218, 120],
    ])
      assertColour(pixel(still, x, y), red, 12, `first frame at (${x}, ${y})`);
  },
  '09-animated.webp': (still, original) => {
    assert.ok((original.pages ?? 1) >= 2, 'fixture is animated');
    for (const [x, y] of [
      [5, 5],
      [112, 63],
      [218, 120],
    ])
      assertColour(pixel(still, x, y), cyan, 2, `first frame at (${x}, ${y})`);
  },
  '10-progressive.jpg': (still, original) => {
    assert.equal(original.isProgressive, true, 'fixture is progressive');
    assertColour(pixel(still, 30, 63), yellow, 12, 'left');
    assertColour(pixel(still, 190, 63), cyan, 12, 'right');
  },
};

test('every accepted hostile case has a content check', () => {
  const accepted = cases.filter((c) => c.accepted).map((c) => c.file);
  assert.deepEqual(accepted.sort(), Object.keys(CONTENT_CHECKS).sort());
  assert.ok(cases.some((c) => !c.accepted));
});

for (const c of cases) {
  test(`hostile ${c.file}: ${c.what} → ${c.accepted ? 'standardised' : 'rejected'}`, async () => {
    const input = await read(c.file);
    if (c.accepted) {
      const still = await standardiseImage(input);
      await assertStill(still);
      CONTENT_CHECKS[c.file](still, await sharp(input).metadata());
    } else {
      assert.ok(c.reason, 'a rejected case says what the reason must be');
      await assert.rejects(standardiseImage(input), expectBadImage(c.reason));
    }
  });
}

test('the decompression bomb is small on disk and refused from its header, naming the way out', async () => {
  const input = await read('12-decompression-bomb.png');
  assert.ok(input.length < 100_000, `bomb is ${input.length} bytes on disk`);
  await assert.rejects(standardiseImage(input), expectBadImage(/raise it with --max-pixels/));
});

test('the reasons are specific', async () => {
  const reasons = new Map<string, string>();
  for (const c of cases.filter((k) => !k.accepted)) {
    await standardiseImage(await read(c.file)).catch((err: Error) => reasons.set(c.file, err.message));
  }
  assert.equal(reasons.get('11-tiny.png'), 'image too small: 10×8 px (minimum side 16 px)');
  assert.equal(
    reasons.get('12-decompression-bomb.png'),
    'image too large: 12000×10000 = 120.0 MP exceeds the 100 MP limit (raise it with --max-pixels)',
  );
  assert.equal(reasons.get('13-empty.jpg'), 'empty file (0 bytes)');
  assert.match(reasons.get('14-truncated.jpg') ?? '', /^truncated or corrupt image data: .*premature end/i);
  assert.match(reasons.get('15-corrupt.jpg') ?? '', /^truncated or corrupt image data: .*corrupt JPEG data/i);
  assert.equal(reasons.get('16-not-an-image.png'), 'not an image (unrecognised format)');
  for (const reason of reasons.values()) assert.ok(!reason.includes('\n'), `one line: ${reason}`);
});

test('a batch of hostile files: every file settles, rejections are all BAD_IMAGE', async () => {
  const results = await Promise.allSettled(cases.map(async (c) => standardiseImage(await read(c.file))));
  results.forEach((r, i) => {
    const c = cases[i];
    if (c.accepted) assert.equal(r.status, 'fulfilled', `${c.file} should be standardised`);
    else {
      assert.equal(r.status, 'rejected', `${c.file} should be rejected`);
      assert.ok(
        r.status === 'rejected' && r.reason instanceof AtlasError && r.reason.code === 'BAD_IMAGE',
        c.file,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Geometry

test('stillGeometry: the original rule and the alternatives', () => {
  assert.deepEqual(stillGeometry(1920, 800), { action: 'pad', width: 224, height: 93, left: 0, top: 16 });
  assert.deepEqual(stillGeometry(400, 300), { action: 'crop', width: 224, height: 168, left: 0, top: -21 });
  assert.deepEqual(stillGeometry(400, 300, 'contain'), {
    action: 'pad',
    width: 168,
    height: 126,
    left: 28,
    top: 0,
  });
  assert.deepEqual(stillGeometry(400, 300, 'cover'), {
    action: 'crop',
    width: 224,
    height: 168,
    left: 0,
    top: -21,
  });
  assert.deepEqual(stillGeometry(1920, 800, 'cover'), {
    action: 'crop',
    width: 302,
    height: 126,
    left: -39,
    top: 0,
  });
  assert.deepEqual(stillGeometry(1920, 1080), { action: 'resize', width: 224, height: 126, left: 0, top: 0 });
  for (const fit of Object.keys(FITS) as (keyof typeof FITS)[]) {
    assert.equal(stillGeometry(64, 36, fit).action, 'resize', `exact 16:9 under ${fit}`);
  }
});

/** Rows (top, bottom) and columns (left, right) that are pure black, counted from each edge along the centre lines. */
function bars(still: StandardisedStill): { top: number; bottom: number; left: number; right: number } {
  const black = (x: number, y: number): boolean => pixel(still, x, y).every((v) => v === 0);
  const count = (n: number, at: (i: number) => boolean): number => {
    let i = 0;
    while (i < n && at(i)) i++;
    return i;
  };
  return {
    top: count(STILL_HEIGHT, (i) => black(112, i)),
    bottom: count(STILL_HEIGHT, (i) => black(112, STILL_HEIGHT - 1 - i)),
    left: count(STILL_WIDTH, (i) => black(i, 63)),
    right: count(STILL_WIDTH, (i) => black(STILL_WIDTH - 1 - i, 63)),
  };
}

test('2.39:1 is letterboxed: black bars top and bottom of the right height, content centred', async () => {
  // 478×200 (2.39:1): upper half green, lower half magenta.
  const input = await painted(478, 200, (_x, y) => (y < 100 ? green : magenta));
  const still = await standardiseImage(input);
  await assertStill(still);
  assert.deepEqual([still.width, still.height], [478, 200]);
  const b = bars(still);
  const content = STILL_HEIGHT - b.top - b.bottom;
  assert.equal(content, Math.round((200 * 224) / 478), 'content keeps the aspect ratio');
  assert.ok(Math.abs(b.top - b.bottom) <= 1, `centred: ${b.top} rows above, ${b.bottom} below`);
  assert.equal(b.top, 16);
  assert.deepEqual([b.left, b.right], [0, 0], 'no pillarbox');
  assertColour(pixel(still, 112, b.top + 5), green, 2, 'upper content');
  assertColour(pixel(still, 112, STILL_HEIGHT - b.bottom - 5), magenta, 2, 'lower content');
  // The halves meet at the middle of the still: content is centred, not shifted.
  assertColour(pixel(still, 112, 60), green, 2, 'just above the middle');
  assertColour(pixel(still, 112, 66), magenta, 2, 'just below the middle');
  // 'contain' does the same for a wide image; 'cover' crops the sides instead.
  const contained = await standardiseImage(input, { fit: 'contain' });
  assert.deepEqual(contained.pixels.data, still.pixels.data);
});

test("4:3 under 'letterbox' and 'cover' is centre-cropped (no bars), under 'contain' pillarboxed", async () => {
  // 400×300: top quarter red, middle half green, bottom quarter blue.
  const input = await painted(400, 300, (_x, y) => (y < 75 ? red : y < 225 ? green : blue));
  for (const fit of ['letterbox', 'cover'] as const) {
    const still = await standardiseImage(input, { fit });
    await assertStill(still);
    assert.deepEqual(bars(still), { top: 0, bottom: 0, left: 0, right: 0 }, fit);
    // Resized to 224×168 and cropped 21 rows each side: red rows 0–20, green 21–104, blue 105–125.
    assertColour(pixel(still, 112, 10), red, 2, `${fit}: top`);
    assertColour(pixel(still, 112, 63), green, 2, `${fit}: middle`);
    assertColour(pixel(still, 112, 116), blue, 2, `${fit}: bottom`);
    assertColour(pixel(still, 112, 30), green, 2, `${fit}: a quarter of the red band is cropped away`);
  }
  const contained = await standardiseImage(input, { fit: 'contain' });
  await assertStill(contained);
  const b = bars(contained);
  assert.deepEqual([b.top, b.bottom], [0, 0]);
  assert.deepEqual([b.left, b.right], [28, 28], 'pillarbox 28 px each side (content 168 px wide)');
  assertColour(pixel(contained, 112, 5), red, 2, 'contain keeps the whole red band');
  assertColour(pixel(contained, 112, 120), blue, 2, 'contain keeps the whole blue band');
});

test("'cover' crops the sides of a wide image", async () => {
  // 478×200: left quarter red, centre green, right quarter blue.
  const input = await painted(478, 200, (x) => (x < 120 ? red : x < 358 ? green : blue));
  const still = await standardiseImage(input, { fit: 'cover' });
  await assertStill(still);
  assert.deepEqual(bars(still), { top: 0, bottom: 0, left: 0, right: 0 });
  // Resized to 301×126, 38–39 px cropped from each side: red keeps ~36 px, blue ~37 px.
  assertColour(pixel(still, 5, 63), red, 2, 'left');
  assertColour(pixel(still, 112, 63), green, 2, 'centre');
  assertColour(pixel(still, 218, 63), blue, 2, 'right');
  assertColour(pixel(still, 45, 63), green, 2, 'the cropped red band is narrower than in the original');
});

test('exact 16:9 is just resized: quadrants stay where they were, no bars, no crop', async () => {
  const quadrant = (x: number, y: number): Rgb => (y < 90 ? (x < 160 ? red : green) : x < 160 ? blue : WHITE);
  const input = await painted(320, 180, quadrant);
  for (const fit of ['letterbox', 'contain', 'cover'] as const) {
    const still = await standardiseImage(input, { fit });
    assert.deepEqual(bars(still), { top: 0, bottom: 0, left: 0, right: 0 }, fit);
    assertColour(pixel(still, 0, 0), red, 2, `${fit}: top-left corner`);
    assertColour(pixel(still, 223, 0), green, 2, `${fit}: top-right corner`);
    assertColour(pixel(still, 0, 125), blue, 2, `${fit}: bottom-left corner`);
    assertColour(pixel(still, 223, 125), WHITE, 2, `${fit}: bottom-right corner`);
  }
});

test('small images are enlarged; the minimum side is configurable', async () => {
  const tiny = await read('11-tiny.png');
  const still = await standardiseImage(tiny, { minSide: 8 });
  await assertStill(still);
  assert.deepEqual([still.width, still.height], [10, 8]);
  await assert.rejects(
    standardiseImage(tiny, { minSide: 9 }),
    expectBadImage(/image too small: 10×8 px \(minimum side 9 px\)/),
  );
});

test('the pixel limit is configurable', async () => {
  const input = await painted(64, 36, () => WHITE); // 2,304 px
  await assert.rejects(
    standardiseImage(input, { maxPixels: 2000 }),
    expectBadImage(/image too large: 64×36 = 2304 px exceeds the 2000 px limit/),
  );
  await assertStill(await standardiseImage(input, { maxPixels: 2304 }));
  const gif = await read('08-animated.gif'); // header from sharp, not the JavaScript probe
  await assert.rejects(
    standardiseImage(gif, { maxPixels: 10_000 }),
    expectBadImage(/160×90 = 14400 px exceeds the 10000 px limit/),
  );
  await assert.rejects(
    standardiseImage(await read('12-decompression-bomb.png'), { maxPixels: 50e6 }),
    expectBadImage(/exceeds the 50 MP limit/),
  );
});

test('options are validated, naming the flag and the choices', async () => {
  const input = await painted(64, 36, () => WHITE);
  const invalid = (message: RegExp) => (err: unknown) => {
    assert.ok(err instanceof AtlasError);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.match(err.message, message);
    return true;
  };
  await assert.rejects(
    standardiseImage(input, { fit: 'stretch' } as unknown as StandardiseOptions),
    invalid(/unknown fit 'stretch': must be one of \[letterbox, contain, cover\]/),
  );
  for (const maxPixels of [0, -5, Number.NaN]) {
    await assert.rejects(standardiseImage(input, { maxPixels }), invalid(/--max-pixels/));
  }
  for (const minSide of [0, 1.5])
    await assert.rejects(standardiseImage(input, { minSide }), invalid(/--min-side/));
});

// ---------------------------------------------------------------------------------------------
// Orientation, alpha and the JavaScript header reader

/** A JPEG with a hand-made EXIF block (byte order `order`) carrying `orientation`. */
async function jpegWithExif(orientation: number, order: 'II' | 'MM'): Promise<Buffer> {
  // Stored 96×48: top half red, bottom half blue, left 8 columns green (marks the stored left edge).
  const jpeg = await sharp(await painted(96, 48, (x, y) => (x < 8 ? green : y < 24 ? red : blue)))
    .jpeg({ quality: 95 })
    .toBuffer();
  const le = order === 'II';
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write(order, 0, 'latin1');
  const u16 = (v: number, at: number): number => (le ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const u32 = (v: number, at: number): number => (le ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  u16(42, 2);
  u32(8, 4); // IFD0 right after the header
  u16(1, 8); // one entry
  u16(0x0112, 10); // Orientation
  u16(3, 12); // SHORT
  u32(1, 14); // count
  u16(orientation, 18);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), app1, payload, jpeg.subarray(2)]);
}

test('EXIF orientations 1–8, either byte order, match libvips', async () => {
  for (const order of ['II', 'MM'] as const) {
    for (let orientation = 1; orientation <= 8; orientation++) {
      const input = await jpegWithExif(orientation, order);
      const meta = await sharp(input).metadata();
      assert.equal(
        meta.orientation,
        orientation,
        `libvips reads the hand-made EXIF (${order}, ${orientation})`,
      );
      const still = await standardiseImage(input);
      assert.deepEqual(
        [still.width, still.height],
        [meta.autoOrient.width, meta.autoOrient.height],
        `size ${order} ${orientation}`,
      );
      // Reference: let libvips rotate the pixels first, then standardise the upright image.
      const upright = await sharp(input).autoOrient().png().toBuffer();
      const expected = await standardiseImage(upright);
      let diff = 0;
      for (let i = 0; i < still.pixels.data.length; i++)
        diff += Math.abs(still.pixels.data[i] - expected.pixels.data[i]);
      assert.ok(diff / still.pixels.data.length < 2, `orientation ${orientation} (${order}) content matches`);
    }
  }
});

test('a palette PNG with a transparent entry keeps that entry’s colour', async () => {
  // Hand-built 64×36 palette PNG: index 0 red (alpha 0) on the left, index 1 blue (opaque) on the right.
  const w = 64;
  const h = 36;
  const rows = Buffer.alloc(h * (w + 1));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows[y * (w + 1) + 1 + x] = x < w / 2 ? 0 : 1;
  const chunk = (type: string, data: Buffer): Buffer => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 3;
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Buffer.from([...red, ...blue])),
    chunk('tRNS', Buffer.from([0, 255])),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  assert.equal((await sharp(png).metadata()).hasAlpha, true);
  const still = await standardiseImage(png);
  await assertStill(still);
  assertColour(pixel(still, 20, 63), red, 2, 'transparent palette entry');
  assertColour(pixel(still, 200, 63), blue, 2, 'opaque palette entry');
});

test('a Uint8Array input works like a Buffer', async () => {
  const buf = await read('10-progressive.jpg');
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  const a = await standardiseImage(copy);
  const b = await standardiseImage(buf);
  assert.ok(a.png.equals(b.png));
});

test('encodeRgbPng round-trips through a PNG decoder, aligned or not', async () => {
  const w = 37; // odd width: rows are not word-aligned
  const h = 5;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 97 + (i >> 3)) & 255;
  for (const [width, height, pixels] of [
    [w, h, data],
    [
      STILL_WIDTH,
      STILL_HEIGHT,
      Uint8Array.from({ length: STILL_WIDTH * STILL_HEIGHT * 3 }, (_, i) => (i * 31) & 255),
    ],
  ] as const) {
    const png = encodeRgbPng(pixels, width, height);
    const { data: back, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [width, height, 3]);
    assert.ok(back.equals(Buffer.from(pixels)));
  }
  assert.throws(() => encodeRgbPng(data, w + 1, h), RangeError);
});

test('alpha is dropped, not composited, even where a resize would premultiply', async () => {
  // 200×100 RGBA (2:1, letterboxed and downscaled): left half transparent white, right half transparent black.
  const raw = Buffer.alloc(200 * 100 * 4);
  for (let i = 0; i < 200 * 100; i++) raw.set(i % 200 < 100 ? [...WHITE, 0] : [...BLACK, 0], i * 4);
  const png = await sharp(raw, { raw: { width: 200, height: 100, channels: 4 } })
    .png()
    .toBuffer();
  const still = await standardiseImage(png);
  assertColour(pixel(still, 40, 63), WHITE, 0, 'transparent white stays white');
  assertColour(pixel(still, 180, 63), BLACK, 0, 'transparent black stays black');
});
