/**
 * Stills → model input, in JavaScript. The built graph takes the stills' bytes as they
 * are (`packStills`) and does the rest itself; an ONNX file from elsewhere takes float32
 * NCHW already letterboxed and normalised (`stillsToTensor`), as PyTorch exports expect.
 */
import { AtlasError } from '../../errors.js';
import { STILL_HEIGHT, STILL_WIDTH } from '../../imaging/standardise.js';
import type { RawImage } from '../../types.js';
import { CANVAS, IMAGENET_MEAN, IMAGENET_STD, PAD_ROWS, type Preprocess } from './graph.js';

const STILL_BYTES = STILL_WIDTH * STILL_HEIGHT * 3;

function checkStill(img: RawImage, i: number): void {
  if (img.width !== STILL_WIDTH || img.height !== STILL_HEIGHT) {
    throw new AtlasError(
      'BAD_IMAGE',
      `still ${i} of the batch is ${img.width}×${img.height}, expected a standardised ${STILL_WIDTH}×${STILL_HEIGHT} still`,
    );
  }
  if (img.data.length < img.width * img.height * img.channels) {
    throw new AtlasError(
      'BAD_IMAGE',
      `still ${i} of the batch has ${img.data.length} bytes, fewer than ${img.width}×${img.height}×${img.channels}`,
    );
  }
}

/** Reads pixel p (r, g, b) of any channel layout: grey is repeated, alpha ignored. */
function rgbOffsets(channels: number): [number, number, number] {
  return channels >= 3 ? [0, 1, 2] : [0, 0, 0];
}

/**
 * Copies the stills' RGB bytes, row-major HWC, one after another into `out` (which
 * holds at least `stills.length × 224 × 126 × 3` bytes). 3-channel stills are one
 * memcpy each; 1-, 2- and 4-channel ones are converted.
 */
export function packStills(stills: readonly RawImage[], out: Uint8Array): void {
  stills.forEach((img, i) => {
    checkStill(img, i);
    const base = i * STILL_BYTES;
    if (img.channels === 3) {
      out.set(img.data.subarray(0, STILL_BYTES), base);
      return;
    }
    const c = img.channels;
    const [r, g, b] = rgbOffsets(c);
    const src = img.data;
    for (let p = 0, s = 0, d = base; p < STILL_WIDTH * STILL_HEIGHT; p++, s += c, d += 3) {
      out[d] = src[s + r];
      out[d + 1] = src[s + g];
      out[d + 2] = src[s + b];
    }
  });
}

const LUTS = new Map<Preprocess, Float32Array[]>();

/** Per channel, the model input for each byte value 0…255 (0 is also the bars' value). */
function lookup(preprocess: Preprocess): Float32Array[] {
  let luts = LUTS.get(preprocess);
  if (!luts) {
    luts = [0, 1, 2].map((ch) => {
      const mean = Math.fround(preprocess === 'imagenet' ? IMAGENET_MEAN[ch] : 0);
      const std = Math.fround(preprocess === 'imagenet' ? IMAGENET_STD[ch] : 1);
      const lut = new Float32Array(256);
      // Math.fround at each step mirrors torch's float32 arithmetic: (x / 255 − mean) / std.
      for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(Math.fround(v / 255) - mean) / std);
      return lut;
    });
    LUTS.set(preprocess, luts);
  }
  return luts;
}

/**
 * Writes the stills as float32 NCHW `[N,3,224,224]` into `out`: each on a black 224×224
 * canvas (rows 49…174 hold the still), `pixel / 255`, then for `imagenet`
 * `(x − mean) / std` over the whole canvas (so the bars become −mean/std), exactly as
 * the parity reference does.
 */
export function stillsToTensor(stills: readonly RawImage[], preprocess: Preprocess, out: Float32Array): void {
  const plane = CANVAS * CANVAS;
  stills.forEach((img, i) => {
    checkStill(img, i);
    const c = img.channels;
    const offs = rgbOffsets(c);
    const src = img.data;
    for (let ch = 0; ch < 3; ch++) {
      const base = (i * 3 + ch) * plane;
      const bar = lookup(preprocess)[ch][0];
      out.fill(bar, base, base + PAD_ROWS * CANVAS);
      out.fill(bar, base + (PAD_ROWS + STILL_HEIGHT) * CANVAS, base + plane);
      const lut = lookup(preprocess)[ch];
      let d = base + PAD_ROWS * CANVAS;
      for (let s = offs[ch], p = 0; p < STILL_WIDTH * STILL_HEIGHT; p++, s += c, d++) out[d] = lut[src[s]];
    }
  });
}
