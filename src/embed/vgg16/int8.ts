/**
 * VGG-16 with int8 convolutions (`--precision int8`): static post-training quantisation.
 *
 * - Convolution weights: int8, symmetric, one scale per output channel (max |w| / 127).
 * - Activations: uint8, one scale per tensor. The network input's range follows from the
 *   preprocessing (exact for `seed`: the pixels themselves); each ReLU's from calibration:
 *   the float32 network is run on a fixed set of calibration stills and the scale covers
 *   the 99.999th percentile of each ReLU's outputs (a few outliers clipped rather than
 *   every value coarsened).
 * - The fully-connected layers stay float32, so fc7 is a float computation from an int8
 *   pool5.
 * ONNX Runtime fuses the QuantizeLinear/DequantizeLinear pairs around each convolution
 * into QLinearConv, which runs on VNNI (or AVX2) integer kernels.
 *
 * The calibration stills are the synthetic sample's (a fixed seed and all eight look
 * families), standardised as any still is: the same weights give the same int8 model on
 * every machine and for every atlas, so features stay comparable across atlases. Their
 * pixels are pinned by CALIBRATION_STILLS_SHA256, which also keys the cached int8 model
 * (build.ts): a change to the sample generator cannot silently change an int8 model or
 * reuse one calibrated on other stills.
 */
import { createHash } from 'node:crypto';
import ort from 'onnxruntime-node';
import { AtlasError } from '../../errors.js';
import { encodeRgbPng, standardiseImage } from '../../imaging/standardise.js';
import { LOOK_FAMILIES, planSample, renderSampleStill } from '../../sources/sample/index.js';
import type { RawImage } from '../../types.js';
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  INPUT_NAMES,
  type ActivationQuant,
  type Int8Quant,
  type Preprocess,
} from './graph.js';
import { packStills } from './preprocess.js';
import { readTensorF32 } from './safetensors.js';
import { VGG16_CONVS, type Vgg16Weights } from './weights.js';

/** The calibration set: this many sample stills (movies × stills each), fixed seed. */
export const CALIBRATION = { seed: 2020, movies: 16, stillsPerMovie: 3 } as const;
/** Share of each ReLU's calibration outputs the uint8 range must cover. */
export const CALIBRATION_PERCENTILE = 0.99999;

/**
 * sha256 of the calibration stills' pixels (`stillsSha256(await calibrationStills())`):
 * all 48, in order. Calibration refuses stills that hash otherwise, and a cached int8
 * model is reused only when it was calibrated on stills with this hash.
 * test/unit/vgg16-calibration.test.ts checks it against the generator. When a change to
 * the sample generator (or to standardisation) that moves these pixels is meant, set it to
 * the new hash: int8 models are then calibrated again, under the new key.
 */
export const CALIBRATION_STILLS_SHA256 = '646de75c181dfee87d229dbbd2d61be02ad82e6e1e08c244863f12c0082c6ba5';

/** sha256 over stills in order: for each, its width, height and channels (u32 LE), then its pixel bytes. */
export function stillsSha256(stills: readonly RawImage[]): string {
  const hash = createHash('sha256');
  const dims = new Uint32Array(3);
  for (const s of stills) {
    dims[0] = s.width;
    dims[1] = s.height;
    dims[2] = s.channels;
    hash.update(new Uint8Array(dims.buffer));
    hash.update(s.data);
  }
  return hash.digest('hex');
}

/** Throws (CHECKSUM) unless `stills` hash to CALIBRATION_STILLS_SHA256, naming both hashes. */
export function checkCalibrationStills(stills: readonly RawImage[]): void {
  const got = stillsSha256(stills);
  if (got === CALIBRATION_STILLS_SHA256) return;
  throw new AtlasError(
    'CHECKSUM',
    `the int8 calibration stills changed: they hash to sha256 ${got}, not the pinned ${CALIBRATION_STILLS_SHA256}; ` +
      'an int8 model calibrated on them would differ from every other int8 model of these weights',
    {
      value: got,
      suggestion:
        'if a change to the sample generator (src/sources/sample/) or to standardisation is meant, set ' +
        `CALIBRATION_STILLS_SHA256 in src/embed/vgg16/int8.ts to ${got} (int8 models are then calibrated again); ` +
        'otherwise embed with --precision fp32 and report this',
    },
  );
}

/** The calibration stills, standardised (224×126 RGB). Deterministic. */
export async function calibrationStills(): Promise<RawImage[]> {
  const movies = planSample({
    seed: CALIBRATION.seed,
    movies: CALIBRATION.movies,
    families: LOOK_FAMILIES.length,
    width: 480,
  });
  const out: RawImage[] = [];
  for (const movie of movies) {
    for (let i = 0; i < CALIBRATION.stillsPerMovie; i++) {
      const raw = renderSampleStill(movie, i * 7);
      const png = encodeRgbPng(raw.data, raw.width, raw.height);
      out.push((await standardiseImage(png)).pixels);
    }
  }
  return out;
}

/** Per-output-channel symmetric int8 weights of every convolution. */
export function quantiseConvWeights(weights: Vgg16Weights): Int8Quant['convWeights'] {
  const out = new Map<string, { q: Int8Array; scales: Float32Array }>();
  for (const c of VGG16_CONVS) {
    const ref = weights.tensors.find((t) => t.key === `${c.layer}.weight`);
    if (!ref) throw new Error(`internal: no weights for ${c.layer}`);
    const w = readTensorF32(weights.file, ref.tensor.name);
    const per = w.length / c.outChannels;
    const q = new Int8Array(w.length);
    const scales = new Float32Array(c.outChannels);
    for (let o = 0; o < c.outChannels; o++) {
      let max = 0;
      for (let i = o * per; i < (o + 1) * per; i++) max = Math.max(max, Math.abs(w[i]));
      const s = max > 0 ? max / 127 : 1;
      scales[o] = s;
      for (let i = o * per; i < (o + 1) * per; i++)
        q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / s)));
    }
    out.set(c.layer, { q, scales });
  }
  return out;
}

/** uint8 quantisation of the normalised canvas: its range is known from the preprocessing. */
export function inputQuant(preprocess: Preprocess): ActivationQuant {
  if (preprocess === 'seed') return { scale: 1 / 255, zeroPoint: 0 };
  const lo = Math.min(...IMAGENET_MEAN.map((m, c) => (0 - m) / IMAGENET_STD[c]));
  const hi = Math.max(...IMAGENET_MEAN.map((m, c) => (1 - m) / IMAGENET_STD[c]));
  const scale = (hi - lo) / 255;
  return { scale, zeroPoint: Math.round(-lo / scale) };
}

/** The value below which `share` of the values lie (values ≥ 0), from a 4,096-bin histogram per batch, merged by max. */
function percentile(values: Float32Array, share: number): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  if (max === 0) return 0;
  const bins = 4096;
  const hist = new Uint32Array(bins);
  const k = (bins - 1) / max;
  for (let i = 0; i < values.length; i++) hist[Math.floor(values[i] * k)]++;
  const keep = Math.ceil(values.length * share);
  let seen = 0;
  for (let b = 0; b < bins; b++) {
    seen += hist[b];
    if (seen >= keep) return Math.min(max, (b + 1) / k);
  }
  return max;
}

/** Runs the calibration graph (float32, every ReLU exposed) on the calibration stills; returns the int8 quantisation. */
export async function calibrate(
  calibrationModel: string,
  weights: Vgg16Weights,
  preprocess: Preprocess,
  threads: number,
): Promise<Int8Quant> {
  const stills = await calibrationStills();
  checkCalibrationStills(stills);
  const relus = VGG16_CONVS.map((c) => c.layer.replace('conv', 'relu'));
  const session = await ort.InferenceSession.create(calibrationModel, {
    intraOpNumThreads: threads,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const ranges = new Map<string, number>(relus.map((r) => [r, 0]));
  try {
    const batch = 4;
    const per = stills[0].width * stills[0].height * 3;
    for (let start = 0; start < stills.length; start += batch) {
      const part = stills.slice(start, start + batch);
      const data = new Uint8Array(part.length * per);
      packStills(part, data);
      const out = await session.run({
        [INPUT_NAMES.u8]: new ort.Tensor('uint8', data, [part.length, stills[0].height, stills[0].width, 3]),
      });
      for (const r of relus) {
        const v = percentile(out[r].data as Float32Array, CALIBRATION_PERCENTILE);
        ranges.set(r, Math.max(ranges.get(r)!, v));
      }
    }
  } finally {
    await session.release();
  }
  const activations = new Map<string, ActivationQuant>([['input', inputQuant(preprocess)]]);
  for (const r of relus) {
    const hi = ranges.get(r)!;
    activations.set(r, { scale: hi > 0 ? hi / 255 : 1, zeroPoint: 0 });
  }
  return { activations, convWeights: quantiseConvWeights(weights) };
}
