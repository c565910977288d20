/**
 * Hostile input files, made by code (no committed binaries): one file for each
 * kind of awkward or broken image a real collection holds. `filmatlas sample
 * --with-bad-files` drops them next to the sample stills, and the standardise and
 * ingest tests feed them through the pipeline.
 *
 * PNGs whose exact layout matters (palette, alpha, 16-bit, the decompression bomb)
 * are assembled byte by byte here, so the test does not depend on what an encoder
 * happens to choose; the rest are written by sharp.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { pngChunk } from '../imaging/standardise.js';

export interface HostileCase {
  /** File name inside the directory, e.g. `07-cmyk.jpg`. */
  file: string;
  /** Whether standardisation should produce a still from it. */
  accepted: boolean;
  /** For rejected files: what the recorded reason must match. */
  reason?: RegExp;
  /** One line saying what the file is. */
  what: string;
}

/** Colours the accepted files are painted with, so tests can check the content survived. */
export const HOSTILE_COLOURS = {
  red: [220, 20, 20],
  blue: [20, 40, 220],
  green: [0, 200, 0],
  magenta: [200, 0, 200],
  yellow: [230, 220, 30],
  cyan: [20, 210, 220],
} as const satisfies Record<string, readonly [number, number, number]>;

type Rgb = readonly [number, number, number];

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A PNG from unfiltered scanlines (`rowBytes` bytes each, filter byte added here).
 * `colourType`: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA.
 */
function buildPng(
  width: number,
  height: number,
  bitDepth: number,
  colourType: number,
  scanlines: Uint8Array,
  extraChunks: Buffer[] = [],
): Buffer {
  const rowBytes = scanlines.length / height;
  const filtered = Buffer.alloc(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    filtered.set(scanlines.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    ...extraChunks,
    pngChunk('IDAT', deflateSync(filtered)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Raw interleaved pixels, `channels` per pixel, painted by `paint(x, y)`. */
function paintRaw(
  width: number,
  height: number,
  channels: number,
  paint: (x: number, y: number) => readonly number[],
): Buffer {
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const px = paint(x, y);
      for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = px[c];
    }
  }
  return out;
}

/** Deterministic noise, so JPEGs carry real entropy-coded data (for the truncation case). */
function noisyRgb(width: number, height: number): Buffer {
  let s = 12345;
  return paintRaw(width, height, 3, (x, y) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const n = (s >>> 24) & 63;
    return [(x * 3 + n) & 255, (y * 5 + n) & 255, (x + y + n) & 255];
  });
}

function rgbSharp(raw: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4 = 3): Sharp {
  return sharp(raw, { raw: { width, height, channels } });
}

function solid(width: number, height: number, colour: Rgb): Sharp {
  return sharp({
    create: { width, height, channels: 3, background: { r: colour[0], g: colour[1], b: colour[2] } },
  });
}

/** Top half `a`, bottom half `b`. */
function halvesTopBottom(width: number, height: number, a: Rgb, b: Rgb): Buffer {
  return paintRaw(width, height, 3, (_x, y) => (y < height / 2 ? a : b));
}

/** Left half `a`, right half `b`. */
function halvesLeftRight(width: number, height: number, a: Rgb, b: Rgb): Buffer {
  return paintRaw(width, height, 3, (x) => (x < width / 2 ? a : b));
}

/** A JPEG cut just after its start-of-scan header, then filled with garbage: the header parses, the body does not. */
function corruptJpeg(valid: Buffer): Buffer {
  let sos = -1;
  for (let i = 2; i + 3 < valid.length;) {
    if (valid[i] !== 0xff) break;
    const marker = valid[i + 1];
    const length = valid.readUInt16BE(i + 2);
    if (marker === 0xda) {
      sos = i + 2 + length;
      break;
    }
    i += 2 + length;
  }
  if (sos < 0) throw new Error('hostile: could not find the start of scan in a JPEG sharp wrote');
  const garbage = Buffer.alloc(Math.max(4096, valid.length - sos));
  let s = 987654321;
  for (let i = 0; i < garbage.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // Any byte, 0xFF included, as real damage would be: the decoder meets bad codes and stray markers.
    garbage[i] = s >>> 24;
  }
  return Buffer.concat([valid.subarray(0, sos), garbage, Buffer.from([0xff, 0xd9])]);
}

/**
 * Writes one file per hostile case into `dir` (created if missing) and returns what
 * each should do. Accepted files are painted in `HOSTILE_COLOURS`, so a test can check
 * orientation, alpha handling and frame choice by looking at the still.
 */
export async function writeHostileFiles(dir: string): Promise<HostileCase[]> {
  await mkdir(dir, { recursive: true });
  const { red, blue, green, magenta, yellow, cyan } = HOSTILE_COLOURS;
  const cases: HostileCase[] = [];
  const add = async (c: HostileCase, data: Buffer | Promise<Buffer>): Promise<void> => {
    await writeFile(join(dir, c.file), await data);
    cases.push(c);
  };

  // Stored 160×96 with red on top and blue below; orientation 6 means "rotate 90° clockwise to
  // display", so it shows as 96×160 with red on the right and blue on the left.
  await add(
    {
      file: '01-exif-rotated.jpg',
      accepted: true,
      what: 'JPEG stored sideways with EXIF orientation 6 (displays red right, blue left)',
    },
    rgbSharp(halvesTopBottom(160, 96, red, blue), 160, 96)
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer(),
  );
  await add(
    { file: '02-greyscale.jpg', accepted: true, what: 'single-channel greyscale JPEG, grey level 100' },
    rgbSharp(Buffer.alloc(192 * 108, 100), 192, 108, 1)
      .toColourspace('b-w')
      .jpeg({ quality: 95 })
      .toBuffer(),
  );
  {
    // 8-bit palette PNG: left half index 0 (green), right half index 1 (magenta).
    const w = 192;
    const h = 108;
    const indices = paintRaw(w, h, 1, (x) => [x < w / 2 ? 0 : 1]);
    const plte = pngChunk('PLTE', Buffer.from([...green, ...magenta]));
    await add(
      { file: '03-palette.png', accepted: true, what: 'palette PNG (2 colours): green left, magenta right' },
      buildPng(w, h, 8, 3, indices, [plte]),
    );
  }
  {
    // Top half fully transparent red, bottom half opaque blue. Dropping alpha must keep the red;
    // compositing (or a premultiplied resize) would turn it black or white.
    const w = 160;
    const h = 90;
    const rgba = paintRaw(w, h, 4, (_x, y) => (y < h / 2 ? [...red, 0] : [...blue, 255]));
    await add(
      {
        file: '04-rgba.png',
        accepted: true,
        what: 'RGBA PNG: fully transparent red top half, opaque blue bottom half',
      },
      buildPng(w, h, 8, 6, rgba),
    );
  }
  {
    // Grey + alpha: left half grey 200 fully transparent, right half grey 50 opaque.
    const w = 160;
    const h = 90;
    const la = paintRaw(w, h, 2, (x) => (x < w / 2 ? [200, 0] : [50, 255]));
    await add(
      {
        file: '05-grey-alpha.png',
        accepted: true,
        what: 'grey+alpha (LA) PNG: transparent grey 200 left, opaque grey 50 right',
      },
      buildPng(w, h, 8, 4, la),
    );
  }
  await add(
    { file: '06-cmyk.jpg', accepted: true, what: 'CMYK JPEG (Adobe), red' },
    solid(192, 108, red).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(),
  );
  {
    // 16 bits per channel: (0xC0C0, 0x4040, 0x8080) reads as (192, 64, 128) in 8 bits.
    const w = 192;
    const h = 108;
    const rgb16 = Buffer.alloc(w * h * 6);
    for (let i = 0; i < w * h; i++) {
      rgb16.writeUInt16BE(0xc0c0, i * 6);
      rgb16.writeUInt16BE(0x4040, i * 6 + 2);
      rgb16.writeUInt16BE(0x8080, i * 6 + 4);
    }
    await add(
      { file: '07-rgb16.png', accepted: true, what: '16-bit RGB PNG, colour (192, 64, 128)' },
      buildPng(w, h, 16, 2, rgb16),
    );
  }
  {
    const frames = await Promise.all([red, blue, green].map((c) => solid(160, 90, c).png().toBuffer()));
    await add(
      { file: '08-animated.gif', accepted: true, what: 'animated GIF, 3 frames: red (first), blue, green' },
      sharp(frames, { join: { animated: true } })
        .gif({ delay: [100, 100, 100] })
        .toBuffer(),
    );
    const webpFrames = await Promise.all([cyan, red, blue].map((c) => solid(160, 90, c).png().toBuffer()));
    await add(
      { file: '09-animated.webp', accepted: true, what: 'animated WebP, 3 frames: cyan (first), red, blue' },
      sharp(webpFrames, { join: { animated: true } })
        .webp({ lossless: true, delay: [100, 100, 100] })
        .toBuffer(),
    );
  }
  await add(
    { file: '10-progressive.jpg', accepted: true, what: 'progressive JPEG: yellow left, cyan right' },
    rgbSharp(halvesLeftRight(192, 108, yellow, cyan), 192, 108)
      .jpeg({ quality: 95, progressive: true })
      .toBuffer(),
  );

  // Rejected from here on.
  await add(
    {
      file: '11-tiny.png',
      accepted: false,
      reason: /image too small: 10×8 px/,
      what: 'a 10×8 PNG (below the 16 px minimum side)',
    },
    solid(10, 8, red).png().toBuffer(),
  );
  {
    // Decompression bomb: a valid 1-bit greyscale PNG of 12000×10000 (120 MP) zeros. Its scanlines
    // deflate to ~15 kB, but decoding it would need 360 MB as RGB.
    const w = 12000;
    const h = 10000;
    const rowBytes = Math.ceil(w / 8);
    await add(
      {
        file: '12-decompression-bomb.png',
        accepted: false,
        reason: /image too large: 12000×10000 = 120\.0 MP exceeds the 100 MP limit/,
        what: 'PNG whose header declares 12000×10000 (120 MP) but is ~15 kB on disk',
      },
      buildPng(w, h, 1, 0, new Uint8Array(rowBytes * h)),
    );
  }
  await add(
    { file: '13-empty.jpg', accepted: false, reason: /empty file \(0 bytes\)/, what: 'zero-byte .jpg' },
    Buffer.alloc(0),
  );
  const noisyJpeg = await rgbSharp(noisyRgb(320, 180), 320, 180).jpeg({ quality: 90 }).toBuffer();
  await add(
    {
      file: '14-truncated.jpg',
      accepted: false,
      reason: /truncated or corrupt image data/,
      what: 'valid JPEG cut in half',
    },
    noisyJpeg.subarray(0, noisyJpeg.length >> 1),
  );
  await add(
    {
      file: '15-corrupt.jpg',
      accepted: false,
      reason: /truncated or corrupt image data/,
      what: 'JPEG with valid headers and a garbage body',
    },
    corruptJpeg(noisyJpeg),
  );
  await add(
    {
      file: '16-not-an-image.png',
      accepted: false,
      reason: /not an image \(unrecognised format\)/,
      what: 'a text file named .png',
    },
    Buffer.from('This is not a picture of anything.\nIt is a text file with an image extension.\n'),
  );
  const validPng = await rgbSharp(noisyRgb(320, 180), 320, 180).png().toBuffer();
  await add(
    {
      file: '17-truncated.png',
      accepted: false,
      reason: /truncated or corrupt image data/,
      what: 'valid PNG cut in half',
    },
    validPng.subarray(0, validPng.length >> 1),
  );
  await add(
    {
      file: '18-html-page.jpg',
      accepted: false,
      reason: /not an image \(unrecognised format\)/,
      what: 'an HTML error page saved as .jpg',
    },
    Buffer.from(
      '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n',
    ),
  );
  await add(
    {
      file: '19-vector.png',
      accepted: false,
      reason: /not a raster image \(svg\)/,
      what: 'an SVG drawing named .png',
    },
    Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180"><rect width="320" height="180" fill="red"/></svg>\n',
    ),
  );
  return cases;
}
