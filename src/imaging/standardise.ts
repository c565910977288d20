/**
 * Standardisation: any still → a 224×126 (16:9) 8-bit sRGB RGB PNG, the input every
 * embedder and every picture of the atlas works from.
 *
 * The default geometry is the original analysis's rule (pad with a crop box
 * `(0, -vpad, w, h + vpad)`): an image wider than 16:9 is letterboxed — black bars top
 * and bottom, content centred — and one taller than 16:9 is centre-cropped to 16:9.
 * The resize kernel is Catmull-Rom cubic, the filter PIL's `resize()` used by default
 * in the original, so features stay comparable with it.
 *
 * Speed: the header is read in JavaScript. The common case — an upright JPEG without an
 * ICC profile, being reduced — goes to the native path (native/jpeg_still.c:
 * libjpeg-turbo with DCT-domain shrink, then a Catmull-Rom resample, one call on libuv's
 * pool), because at this size the libvips pipeline's fixed cost is most of sharp's time;
 * the two agree to ~0.1 grey level on average. Everything else is one sharp pipeline
 * (shrink-on-load, resize straight to raw pixels). Then the bars or crop are applied by
 * copying rows, and the PNG is encoded here, synchronously (Up filter, zlib level 1,
 * run-length strategy): sharp's own `contain` embed and PNG encoder cost more than the
 * decode itself at this size, and a 224×126 deflate (~0.6 ms) costs less on the calling
 * thread than the hand-off to libuv's pool and back.
 *
 * Every input that cannot become a still throws `AtlasError('BAD_IMAGE', reason)` with a
 * reason a person can act on; nothing here stops a run.
 */
import zlib from 'node:zlib';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { STILL_HEIGHT, STILL_WIDTH } from '../atlas/stills.js';
import { AtlasError, unknownChoice } from '../errors.js';
import type { RawImage } from '../types.js';
import { decodeJpegNative } from './native-jpeg.js';
import { checkInt, checkNumber } from '../validate.js';

// The size is part of the atlas's format (src/atlas/stills.ts); re-exported for the stages that make stills.
export { STILL_HEIGHT, STILL_WIDTH };

/** How an image that is not 16:9 is made 16:9. */
export type FitMode = 'letterbox' | 'contain' | 'cover';

export const FITS: Record<FitMode, { description: string }> = {
  letterbox: {
    description:
      "the original analysis's rule (default): wider than 16:9 → black bars top and bottom; taller than 16:9 → centre-cropped to 16:9",
  },
  contain: {
    description: 'always keep the whole image: black bars top and bottom (wide) or left and right (tall)',
  },
  cover: {
    description: 'always fill the frame: centre-crop the sides (wide) or the top and bottom (tall)',
  },
};

/** Decoder strictness, sharp's `failOn` levels from least to most sensitive. */
export type FailOn = 'none' | 'truncated' | 'error' | 'warning';
const FAIL_ON_LEVELS: readonly FailOn[] = ['none', 'truncated', 'error', 'warning'];

export interface StandardiseOptions {
  /** How non-16:9 images meet 16:9. Default 'letterbox'; one of the keys of `FITS`. */
  fit?: FitMode;
  /**
   * Largest image accepted, in pixels (width × height as the header declares, checked
   * before decoding). Default 100e6 (100 MP); any positive number.
   */
  maxPixels?: number;
  /** Smallest accepted side, in pixels. Default 16; an integer ≥ 1. */
  minSide?: number;
  /**
   * How damaged pixel data may be before a file is rejected (sharp's `failOn`). Default
   * 'warning': truncated files and corrupt entropy data (bad Huffman codes, stray
   * markers) are rejected. 'error' or 'truncated' accept damaged but decodable files;
   * 'none' accepts anything libvips can read.
   */
  failOn?: FailOn;
}

export interface StandardisedStill {
  /** The still: 224×126 RGB, 8 bits per channel, sRGB, no alpha. */
  png: Buffer;
  /** The same pixels, unencoded (224×126×3, row-major RGB). */
  pixels: RawImage;
  /** Original width in pixels, after EXIF orientation. */
  width: number;
  /** Original height in pixels, after EXIF orientation. */
  height: number;
  /** Decoder that read the original: 'jpeg', 'png', 'gif', 'webp', 'tiff', 'heif', … */
  format: string;
}

/** Raster formats accepted as stills; anything else libvips can read (SVG, PDF, …) is refused. */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif', 'jp2', 'jxl']);

const DEFAULTS: Required<StandardiseOptions> = {
  fit: 'letterbox',
  maxPixels: 100e6,
  minSide: 16,
  failOn: 'warning',
};

/** Validates options and fills in defaults; throws `INVALID_ARGUMENT` naming the CLI flag. */
export function resolveStandardiseOptions(options: StandardiseOptions = {}): Required<StandardiseOptions> {
  const fit = options.fit ?? DEFAULTS.fit;
  if (!Object.hasOwn(FITS, fit)) throw unknownChoice('fit', String(fit), Object.keys(FITS));
  const maxPixels = options.maxPixels ?? DEFAULTS.maxPixels;
  checkNumber('--max-pixels', maxPixels, 1, Infinity);
  const minSide = options.minSide ?? DEFAULTS.minSide;
  checkInt('--min-side', minSide, 1, Infinity);
  const failOn = options.failOn ?? DEFAULTS.failOn;
  if (!FAIL_ON_LEVELS.includes(failOn)) throw unknownChoice('fail-on level', String(failOn), FAIL_ON_LEVELS);
  return { fit, maxPixels, minSide, failOn };
}

/**
 * Tunes sharp for many small images at once. `concurrency` is libvips threads per image
 * (default 1: parallelism comes from several stills in flight, each on a libuv thread;
 * 1–64). The libvips operation cache is turned off: every still is a different input,
 * so it only holds on to memory.
 */
export function configureSharp(opts: { concurrency?: number } = {}): void {
  const concurrency = opts.concurrency ?? 1;
  checkInt('sharp concurrency', concurrency, 1, 64);
  sharp.concurrency(concurrency);
  sharp.cache(false);
}

// ---------------------------------------------------------------------------------------------
// Geometry

/**
 * Where the resized image lands in the still: resize the whole (oriented) image to
 * `width`×`height`, then place it with its top-left corner at (`left`, `top`) of the
 * 224×126 canvas. Negative offsets crop; positive ones leave black bars.
 */
export interface StillGeometry {
  action: 'resize' | 'pad' | 'crop';
  width: number;
  height: number;
  left: number;
  top: number;
}

/** The geometry for an image of `width`×`height` (after orientation) under `fit`. */
export function stillGeometry(width: number, height: number, fit: FitMode = 'letterbox'): StillGeometry {
  // Compare aspect ratios exactly in integers: width/height vs 16/9 (= 224/126).
  const wideness = width * STILL_HEIGHT - height * STILL_WIDTH; // > 0: wider than 16:9
  if (wideness === 0) return { action: 'resize', width: STILL_WIDTH, height: STILL_HEIGHT, left: 0, top: 0 };
  const pad = fit === 'contain' || (fit === 'letterbox' && wideness > 0);
  // Pad: fit the long side; crop: fill the short side. Wide + pad and tall + crop both fix the width.
  const fixWidth = pad === wideness > 0;
  const w = fixWidth ? STILL_WIDTH : Math.max(1, Math.round((width * STILL_HEIGHT) / height));
  const h = fixWidth ? Math.max(1, Math.round((height * STILL_WIDTH) / width)) : STILL_HEIGHT;
  const left = Math.floor((STILL_WIDTH - w) / 2);
  const top = Math.floor((STILL_HEIGHT - h) / 2);
  if (left === 0 && top === 0) return { action: 'resize', width: w, height: h, left, top };
  return { action: pad ? 'pad' : 'crop', width: w, height: h, left, top };
}

/** Copies `src` (w×h×3) onto a black 224×126×3 canvas at (left, top), clipping whatever falls outside. */
function place(src: Uint8Array, w: number, h: number, left: number, top: number): Uint8Array {
  if (w === STILL_WIDTH && h === STILL_HEIGHT && left === 0 && top === 0) return src;
  const out = new Uint8Array(STILL_WIDTH * STILL_HEIGHT * 3);
  const x0 = Math.max(0, left);
  const x1 = Math.min(STILL_WIDTH, left + w);
  const y0 = Math.max(0, top);
  const y1 = Math.min(STILL_HEIGHT, top + h);
  if (x1 <= x0) return out;
  for (let y = y0; y < y1; y++) {
    const from = ((y - top) * w + (x0 - left)) * 3;
    out.set(src.subarray(from, from + (x1 - x0) * 3), (y * STILL_WIDTH + x0) * 3);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// PNG encoding

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 (as PNG chunks and zlib use it), unsigned. Native where Node has it (≥ 20.15). */
export function crc32(data: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(data) >>> 0;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_SRGB = pngChunk('sRGB', Uint8Array.of(0)); // perceptual intent: the pixels are sRGB
const PNG_IEND = pngChunk('IEND', new Uint8Array(0));

/** One PNG chunk: length, type, data, CRC-32 of type and data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** PNG's filtered scanlines: the Up filter on every row but the first (None). */
function filterRows(data: Uint8Array, width: number, height: number): Buffer {
  const stride = width * 3;
  if (data.length !== stride * height) {
    throw new RangeError(
      `expected ${stride * height} bytes for ${width}×${height} RGB but got ${data.length}`,
    );
  }
  const diff = upDifferences(data, stride);
  const filtered = Buffer.allocUnsafe(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    filtered[o] = y === 0 ? 0 : 2; // None for the first row, Up for the rest
    filtered.set(diff.subarray(y * stride, (y + 1) * stride), o + 1);
  }
  return filtered;
}

function assemblePng(idat: Uint8Array, width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), PNG_SRGB, pngChunk('IDAT', idat), PNG_IEND]);
}

const DEFLATE_OPTIONS = { level: 1, strategy: zlib.constants.Z_RLE } as const;

/**
 * Encodes 8-bit RGB pixels as a PNG with an sRGB chunk. Every row but the first uses
 * the Up filter, and zlib runs at level 1 with the run-length strategy: on film stills
 * that is within ~30% of the size adaptive filtering at level 6 gives, several times
 * faster.
 */
export function encodeRgbPng(data: Uint8Array, width: number, height: number): Buffer {
  return assemblePng(zlib.deflateSync(filterRows(data, width, height), DEFLATE_OPTIONS), width, height);
}

const HIGH_BITS = 0x80808080 | 0;
const LOW_BITS = 0x7f7f7f7f;

/**
 * Row-minus-row-above, byte by byte mod 256 (PNG's Up filter); the first row is copied.
 * Four bytes per step with the SWAR subtraction (Hacker's Delight 2-18) when rows are
 * word-aligned, which is ~3× faster than a byte loop in V8.
 */
function upDifferences(data: Uint8Array, stride: number): Uint8Array {
  const out = new Uint8Array(data.length);
  if (stride % 4 === 0 && data.byteOffset % 4 === 0) {
    const n = data.length >>> 2;
    const q = stride >>> 2;
    const src = new Uint32Array(data.buffer, data.byteOffset, n);
    const dst = new Uint32Array(out.buffer, 0, n);
    dst.set(src.subarray(0, q));
    for (let i = q; i < n; i++) {
      const a = src[i];
      const b = src[i - q];
      dst[i] = ((a | HIGH_BITS) - (b & LOW_BITS)) ^ ((a ^ ~b) & HIGH_BITS);
    }
  } else {
    out.set(data.subarray(0, stride));
    for (let i = stride; i < data.length; i++) out[i] = data[i] - data[i - stride];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Header reading

interface ImageHeader {
  format: string;
  /** As stored, before orientation. */
  width: number;
  height: number;
  /** EXIF orientation 1–8 (5–8 swap width and height). */
  orientation: number;
  hasAlpha: boolean;
  /** An embedded ICC profile (converted to sRGB by sharp). */
  iccProfile: boolean;
}

/**
 * Reads a JPEG's size and EXIF orientation from its markers without libvips. Returns
 * undefined for anything unusual, and the caller asks sharp instead.
 */
function probeJpeg(buf: Uint8Array): ImageHeader | undefined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let orientation = 1;
  let exifSeen = false;
  let iccProfile = false;
  let size: { width: number; height: number } | undefined;
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) return undefined;
    const marker = buf[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image / start of scan: headers are over
    const length = view.getUint16(i + 2);
    const end = i + 2 + length;
    if (length < 2 || end > buf.length) return undefined;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && size === undefined) {
      if (length < 8) return undefined;
      size = { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
    } else if (
      marker === 0xe1 &&
      !exifSeen &&
      length >= 8 &&
      view.getUint32(i + 4) === 0x45786966 &&
      view.getUint16(i + 8) === 0
    ) {
      // "Exif\0\0": the first EXIF block is the one libvips reads.
      exifSeen = true;
      const o = exifOrientation(view, i + 10, end);
      if (o === undefined) return undefined;
      orientation = o;
    } else if (
      marker === 0xe2 &&
      length >= 14 &&
      view.getUint32(i + 4) === 0x4943435f &&
      view.getUint32(i + 8) === 0x50524f46
    ) {
      iccProfile = true; // "ICC_PROF…": an APP2 ICC profile chunk
    }
    i = end;
  }
  if (size === undefined || size.width === 0 || size.height === 0) return undefined;
  return { format: 'jpeg', ...size, orientation, hasAlpha: false, iccProfile };
}

/** Orientation from a TIFF-structured EXIF block at [start, end); 1 when absent; undefined when malformed. */
function exifOrientation(view: DataView, start: number, end: number): number | undefined {
  if (start + 8 > end) return undefined;
  const order = view.getUint16(start);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined;
  const le = order === 0x4949;
  if (view.getUint16(start + 2, le) !== 42) return undefined;
  const ifd = start + view.getUint32(start + 4, le);
  if (ifd + 2 > end) return undefined;
  const count = view.getUint16(ifd, le);
  if (ifd + 2 + count * 12 > end) return undefined;
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + k * 12;
    if (view.getUint16(entry, le) !== 0x0112) continue;
    if (view.getUint16(entry + 2, le) !== 3) return undefined; // not a SHORT: let libvips judge
    const value = view.getUint16(entry + 8, le);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** Reads a PNG's size and whether it has alpha (colour type or tRNS) from its chunks. */
function probePng(buf: Uint8Array): ImageHeader | undefined {
  if (buf.length < 33) return undefined;
  for (let k = 0; k < 8; k++) if (buf[k] !== PNG_SIGNATURE[k]) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(8) !== 13 || view.getUint32(12) !== 0x49484452) return undefined; // IHDR first
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const colourType = buf[25];
  let hasAlpha = colourType === 4 || colourType === 6;
  for (let i = 33; i + 8 <= buf.length;) {
    const length = view.getUint32(i);
    const type = view.getUint32(i + 4);
    if (type === 0x49444154 || type === 0x49454e44) break; // IDAT / IEND: no more header chunks
    if (type === 0x74524e53) hasAlpha = true; // tRNS
    if (type === 0x65584966) return undefined; // eXIf: orientation possible, let libvips read it
    if (type === 0x6163544c) return undefined; // acTL: animated PNG, let libvips describe it
    i += 12 + length;
  }
  if (width === 0 || height === 0) return undefined;
  return { format: 'png', width, height, orientation: 1, hasAlpha, iccProfile: false };
}

function bad(reason: string, cause?: unknown): AtlasError {
  return new AtlasError('BAD_IMAGE', reason, { cause });
}

/** libvips messages, one line, repeated lines dropped, loader prefixes kept (they name the format). */
function vipsMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  const lines = [
    ...new Set(
      raw
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length > 0),
    ),
  ];
  const text = lines.join('; ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

async function readHeader(input: Buffer, failOn: FailOn): Promise<ImageHeader> {
  const probed = probeJpeg(input) ?? probePng(input);
  if (probed) return probed;
  let meta: Metadata;
  try {
    meta = await sharp(input, { failOn, limitInputPixels: false }).metadata();
  } catch (err) {
    const message = vipsMessage(err);
    if (/unsupported image format/i.test(message)) throw bad('not an image (unrecognised format)', err);
    throw bad(`corrupt image header: ${message.replace(/^Input buffer has corrupt header: /, '')}`, err);
  }
  const orientation =
    meta.orientation !== undefined && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
  return {
    format: meta.format,
    width: meta.width,
    height: meta.height,
    orientation,
    hasAlpha: meta.hasAlpha,
    iccProfile: meta.hasProfile ?? false,
  };
}

// ---------------------------------------------------------------------------------------------
// The step

/**
 * Turns one original (the file's bytes) into a standardised still. Throws
 * `AtlasError('BAD_IMAGE', reason)` for every input that cannot be one, with a reason
 * such as "empty file (0 bytes)", "not an image (unrecognised format)",
 * "truncated or corrupt image data: …", "image too small: 12×9 px (minimum side 16 px)"
 * or "image too large: 20000×20000 = 400.0 MP exceeds the 100 MP limit (raise it with --max-pixels)".
 *
 * Handles EXIF orientation, greyscale, palette, 16-bit, CMYK (→ sRGB), embedded ICC
 * profiles (→ sRGB) and animations (first frame). Alpha is dropped without compositing:
 * the colour channels are kept as stored, as the original analysis did.
 */
export async function standardiseImage(
  input: Buffer | Uint8Array,
  options?: StandardiseOptions,
): Promise<StandardisedStill> {
  const { fit, maxPixels, minSide, failOn } = resolveStandardiseOptions(options);
  if (input.length === 0) throw bad('empty file (0 bytes)');
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);

  const header = await readHeader(buf, failOn);
  if (!RASTER_FORMATS.has(header.format)) {
    throw bad(
      `not a raster image (${header.format}): stills must be photographs or frames, not drawings or documents`,
    );
  }
  // The pixel limit is checked on the header's numbers, before a single pixel is decoded.
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    const size = pixels >= 1e6 ? `${(pixels / 1e6).toFixed(1)} MP` : `${pixels} px`;
    const limit = maxPixels >= 1e6 ? `${+(maxPixels / 1e6).toFixed(2)} MP` : `${maxPixels} px`;
    throw bad(
      `image too large: ${header.width}×${header.height} = ${size} exceeds the ${limit} limit (raise it with --max-pixels)`,
    );
  }
  const swap = header.orientation >= 5;
  const width = swap ? header.height : header.width;
  const height = swap ? header.width : header.height;
  if (Math.min(width, height) < minSide) {
    throw bad(`image too small: ${width}×${height} px (minimum side ${minSide} px)`);
  }

  const geometry = stillGeometry(width, height, fit);
  // Upright JPEGs without an ICC profile, being reduced, take the native path when it is
  // built; everything else, and any JPEG it declines or fails on, goes through sharp.
  const nativeTakes =
    header.format === 'jpeg' &&
    header.orientation === 1 &&
    !header.iccProfile &&
    geometry.width <= width &&
    geometry.height <= height;
  const native = nativeTakes
    ? await decodeJpegNative(buf, geometry.width, geometry.height, failOn)
    : undefined;
  const resized = native
    ? { data: native.data, info: { width: native.width, height: native.height, channels: 3 } }
    : await resizeWithSharp(buf, header, geometry, failOn, maxPixels);

  const rgb = toRgb(resized.data, resized.info.width * resized.info.height, resized.info.channels);
  const still = place(rgb, resized.info.width, resized.info.height, geometry.left, geometry.top);
  return {
    png: encodeRgbPng(still, STILL_WIDTH, STILL_HEIGHT),
    pixels: { data: still, width: STILL_WIDTH, height: STILL_HEIGHT, channels: 3 },
    width,
    height,
    format: header.format,
  };
}

/** Any image libvips reads → `geometry.width`×`geometry.height` pixels, oriented, sRGB, alpha dropped. */
async function resizeWithSharp(
  buf: Buffer,
  header: ImageHeader,
  geometry: StillGeometry,
  failOn: FailOn,
  maxPixels: number,
): Promise<{ data: Uint8Array; info: Pick<OutputInfo, 'width' | 'height' | 'channels'> }> {
  const source = { failOn, autoOrient: true, limitInputPixels: Math.floor(maxPixels) } as const;
  try {
    let pipeline: Sharp;
    if (header.hasAlpha) {
      // sharp premultiplies alpha around a resize, which would blacken transparent pixels.
      // The original kept the colour channels as stored, so drop alpha first, at full size
      // (no resize → no premultiplication), and resize the plain RGB afterwards.
      const flat = await sharp(buf, source)
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      pipeline = sharp(flat.data, {
        raw: { width: flat.info.width, height: flat.info.height, channels: flat.info.channels },
      });
    } else {
      pipeline = sharp(buf, source);
    }
    return await pipeline
      .resize(geometry.width, geometry.height, { fit: 'fill', kernel: 'cubic' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    const message = vipsMessage(err);
    if (/exceeds pixel limit/i.test(message)) {
      throw bad(
        `image too large: ${header.width}×${header.height} exceeds the pixel limit (raise it with --max-pixels)`,
        err,
      );
    }
    if (/unsupported image format/i.test(message)) throw bad('not an image (unrecognised format)', err);
    throw bad(`truncated or corrupt image data: ${message}`, err);
  }
}

/** Interleaved 1–4 channel pixels → RGB (grey replicated, alpha dropped). sharp already gives RGB; this is a guard. */
function toRgb(data: Uint8Array, n: number, channels: number): Uint8Array {
  if (channels === 3) return data;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    if (channels <= 2) {
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = data[s];
    } else {
      out[i * 3] = data[s];
      out[i * 3 + 1] = data[s + 1];
      out[i * 3 + 2] = data[s + 2];
    }
  }
  return out;
}
