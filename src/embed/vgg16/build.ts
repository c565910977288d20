/**
 * From a safetensors file to an ONNX model file ONNX Runtime can open, cached.
 *
 * `<cache>/vgg16/<sha256 of the weights, 32 hex>/` holds:
 * - `weights.safetensors`: the weights file itself, hard-linked (copied only across
 *   filesystems), when every tensor is float32 — the graphs point into it, so nothing is
 *   converted or duplicated;
 * - or `weights.f32`: the tensors converted to float32 (F16/BF16/F64 files), each at a
 *   4 KiB-aligned offset;
 * - `data.json`: which of the two, and what identifies it;
 * - `vgg16-g<graph version>-<data>-<input>-<preprocess>-<layer>.onnx`: a few-kilobyte
 *   graph per variant asked for.
 * Keyed by the weights' sha256 and the graph version, so a second run only checks that
 * these files are still there.
 */
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeAtomic, writeAtomicViaSync, writeJsonAtomic } from '../../atlas/files.js';
import { AtlasError } from '../../errors.js';
import {
  GRAPH_VERSION,
  buildVgg16Model,
  type GraphTensor,
  type InputForm,
  type Int8Quant,
  type Preprocess,
} from './graph.js';
import { placeFile, placedFileValid, type PlacedFile } from './model-files.js';
import { readSafetensorsHeader, readTensorF32, type SafetensorsFile } from './safetensors.js';
import {
  DEFAULT_LAYER,
  VGG16_CONVS,
  VGG16_FCS,
  layerShape,
  resolveVgg16Weights,
  type Vgg16Naming,
  type Vgg16Weights,
} from './weights.js';

interface DataManifest {
  version: 1;
  sha256: string;
  /** 'safetensors': the weights file as is; 'f32': converted to float32. */
  kind: 'safetensors' | 'f32';
  placed: PlacedFile;
  /** For 'f32': where each source tensor (by its name in the weights file) lies. */
  tensors?: Record<string, { offset: number; length: number }>;
}

export interface BuiltModel {
  /** The ONNX model file to open. */
  modelPath: string;
  naming: Vgg16Naming;
  /** dtype of the weights in the file (F32, F16, BF16, F64; 'mixed' if several). */
  dtype: string;
  /** How the weights reached the model folder. */
  data: 'link' | 'copy' | 'converted';
  layer: string;
  /** Floats per still at the output. */
  dim: number;
  input: InputForm;
  /** Whether this call wrote the graph (false: it came from the cache). */
  built: boolean;
}

export interface BuildOptions {
  /** Default 'fc7'. */
  layer?: string;
  /** Default 'imagenet'. */
  preprocess?: Preprocess;
  /** Default 'u8'. */
  input?: InputForm;
}

const ALIGN = 4096;

/**
 * Validates the weights file's header (names, shapes, dtypes — before reading any
 * weight), then returns a cached graph for it or writes one.
 */
export function prepareBuiltModel(
  weightsPath: string,
  sha256: string,
  opts: BuildOptions,
  cacheRoot: string,
): BuiltModel {
  const layer = opts.layer ?? DEFAULT_LAYER;
  const input = opts.input ?? 'u8';
  const preprocess = opts.preprocess ?? 'imagenet';
  const placed = placeWeights(weightsPath, sha256, layer, cacheRoot);
  const name = `vgg16-g${GRAPH_VERSION}-${placed.manifest.kind}-${input}-${input === 'u8' ? preprocess : 'raw'}-${layer}.onnx`;
  const modelPath = join(placed.dir, name);
  let built = false;
  if (!existsSync(modelPath)) {
    writeAtomic(modelPath, buildVgg16Model({ layer, preprocess, input, weights: placed.graphWeights }));
    built = true;
  }
  return builtModel(placed, modelPath, layer, input, built);
}

interface PlacedWeights {
  dir: string;
  manifest: DataManifest;
  weights: Vgg16Weights;
  dtype: string;
  /** Every tensor the layer needs, pointing into the placed file. */
  graphWeights: Map<string, GraphTensor>;
}

function builtModel(
  placed: PlacedWeights,
  modelPath: string,
  layer: string,
  input: InputForm,
  built: boolean,
): BuiltModel {
  return {
    modelPath,
    naming: placed.weights.naming,
    dtype: placed.dtype,
    data: placed.manifest.kind === 'f32' ? 'converted' : placed.manifest.placed.mode,
    layer,
    dim: layerShape(layer).reduce((a, b) => a * b, 1),
    input,
    built,
  };
}

/** Puts the weights file (linked, or converted to float32) in the cache folder for its sha256. */
function placeWeights(weightsPath: string, sha256: string, layer: string, cacheRoot: string): PlacedWeights {
  const file = readSafetensorsHeader(weightsPath);
  const weights = resolveVgg16Weights(file, layer);
  const dtypes = new Set(weights.tensors.map((t) => t.tensor.dtype));
  const dtype = dtypes.size === 1 ? [...dtypes][0] : 'mixed';

  const dir = join(cacheRoot, 'vgg16', sha256.slice(0, 32));
  mkdirSync(dir, { recursive: true });
  const manifestPath = join(dir, 'data.json');
  let manifest = readJsonFile<DataManifest>(manifestPath);
  const usable =
    manifest?.version === 1 &&
    manifest.sha256 === sha256 &&
    placedFileValid(dir, manifest.placed) &&
    (manifest.kind === 'safetensors' || weights.tensors.every((t) => manifest?.tensors?.[t.tensor.name]));
  if (!usable) {
    manifest =
      dtype === 'F32'
        ? {
            version: 1,
            sha256,
            kind: 'safetensors',
            placed: placeFile(weightsPath, dir, 'weights.safetensors'),
          }
        : writeConverted(file, sha256, dir, layer);
    writeJsonAtomic(manifestPath, manifest);
  }
  const m = manifest!;
  const graphWeights = new Map<string, GraphTensor>();
  for (const t of weights.tensors) {
    const where =
      m.kind === 'safetensors'
        ? { offset: t.tensor.offset, length: t.tensor.byteLength }
        : m.tensors![t.tensor.name];
    graphWeights.set(t.key, {
      dims: t.dims,
      source: { kind: 'external', location: m.placed.name, offset: where.offset, length: where.length },
    });
  }
  return { dir, manifest: m, weights, dtype, graphWeights };
}

/**
 * Version of the rule that turns the calibration activations into scales (int8.ts
 * `calibrate`): bumped when that rule changes, so that int8 models calibrated the old way
 * are rebuilt. The calibration stills need no bump: a cached int8 model is keyed by
 * their content hash too (`Int8Calibration.stillsSha256`).
 */
export const CALIBRATION_VERSION = 1;

/** How an int8 model is calibrated, and what a cached one must have been calibrated on. */
export interface Int8Calibration {
  /**
   * sha256 of the calibration stills' pixels (int8.ts CALIBRATION_STILLS_SHA256). It is
   * recorded with the model, and a cached model that records another is calibrated again.
   */
  stillsSha256: string;
  /**
   * Given a float32 graph that also outputs every ReLU, and the float weights, returns
   * the quantisation; it runs only when no usable model is cached, and must calibrate on
   * stills with `stillsSha256`.
   */
  quantise: (calibrationModel: string, weights: Vgg16Weights) => Promise<Int8Quant>;
}

/** The `<stem>.json` beside an int8 model: what it was calibrated on and the activation scales. */
interface Int8QuantFile {
  version: number;
  /** sha256 of the calibration stills (absent in files written before it was recorded). */
  stills?: string;
  activations: Record<string, { scale: number; zeroPoint: number }>;
}

/**
 * The int8 model for these weights (see int8.ts), cached beside the float32 graphs and
 * keyed by the graph and calibration versions, the layer and preprocessing (its file
 * name) and the calibration stills' sha256 (recorded in its `.json`, written last).
 */
export async function prepareInt8Model(
  weightsPath: string,
  sha256: string,
  opts: Omit<BuildOptions, 'input'>,
  cacheRoot: string,
  calibration: Int8Calibration,
): Promise<BuiltModel & { quantFile: string }> {
  const layer = opts.layer ?? DEFAULT_LAYER;
  const preprocess = opts.preprocess ?? 'imagenet';
  if (!VGG16_FCS.some((f) => f.layer === layer || `relu${f.layer.slice(2)}` === layer)) {
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `int8 precision gives the fully-connected layers only (fc6, relu6, fc7, relu7, fc8), not '${layer}'`,
      {
        value: layer,
      },
    );
  }
  const placed = placeWeights(weightsPath, sha256, layer, cacheRoot);
  const stem = `vgg16-g${GRAPH_VERSION}-int8-c${CALIBRATION_VERSION}-${placed.manifest.kind}-u8-${preprocess}-${layer}`;
  const modelPath = join(placed.dir, `${stem}.onnx`);
  const quantFile = join(placed.dir, `${stem}.json`);
  const cached = readJsonFile<Int8QuantFile>(quantFile);
  if (
    existsSync(modelPath) &&
    cached?.version === CALIBRATION_VERSION &&
    cached.stills === calibration.stillsSha256
  )
    return { ...builtModel(placed, modelPath, layer, 'u8', false), quantFile };

  const relus = VGG16_CONVS.map((c) => c.layer.replace('conv', 'relu'));
  const calibrationPath = join(placed.dir, `${stem}.calibration-${process.pid}.onnx`);
  let quant: Int8Quant;
  try {
    writeAtomic(
      calibrationPath,
      buildVgg16Model({
        layer: 'pool5',
        preprocess,
        input: 'u8',
        weights: placed.graphWeights,
        extraOutputs: ['input', ...relus],
      }),
    );
    quant = await calibration.quantise(calibrationPath, placed.weights);
  } finally {
    rmSync(calibrationPath, { force: true });
  }
  // Biases inline (they are folded into int32 at the convolution's scale); fc weights stay in the file.
  const graphWeights = new Map(placed.graphWeights);
  for (const c of VGG16_CONVS) {
    const ref = placed.weights.tensors.find((t) => t.key === `${c.layer}.bias`);
    if (!ref) throw new Error(`internal: no bias for ${c.layer}`);
    const data = readTensorF32(placed.weights.file, ref.tensor.name);
    graphWeights.set(ref.key, {
      dims: ref.dims,
      source: { kind: 'inline', bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
    });
  }
  writeAtomic(
    modelPath,
    buildVgg16Model({ layer, preprocess, input: 'u8', weights: graphWeights, int8: quant }),
  );
  const record: Int8QuantFile = {
    version: CALIBRATION_VERSION,
    stills: calibration.stillsSha256,
    activations: Object.fromEntries(quant.activations),
  };
  writeJsonAtomic(quantFile, record);
  return { ...builtModel(placed, modelPath, layer, 'u8', true), quantFile };
}

/**
 * Converts the file's VGG-16 tensors to float32 into `weights.f32` (for F16, BF16, F64
 * files), as many layers as the file has, so that every later layer choice can use it.
 */
function writeConverted(file: SafetensorsFile, sha256: string, dir: string, layer: string): DataManifest {
  let all: Vgg16Weights;
  try {
    all = resolveVgg16Weights(file, 'fc8');
  } catch {
    all = resolveVgg16Weights(file, layer);
  }
  const name = 'weights.f32';
  const dest = join(dir, name);
  const tensors: Record<string, { offset: number; length: number }> = {};
  writeAtomicViaSync(dest, (tmp) => {
    const fd = openSync(tmp, 'w');
    try {
      let offset = 0;
      let scratch = new Float32Array(0);
      for (const t of all.tensors) {
        offset = Math.ceil(offset / ALIGN) * ALIGN;
        if (scratch.length < t.tensor.elements) scratch = new Float32Array(t.tensor.elements);
        const data = readTensorF32(file, t.tensor.name, scratch.subarray(0, t.tensor.elements));
        const bytes = new Uint8Array(data.buffer, data.byteOffset, t.tensor.elements * 4);
        let done = 0;
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
        tensors[t.tensor.name] = { offset, length: bytes.length };
        offset += bytes.length;
      }
    } finally {
      closeSync(fd);
    }
  });
  const st = statSync(dest);
  return {
    version: 1,
    sha256,
    kind: 'f32',
    placed: { name, mode: 'copy', size: st.size, mtimeMs: st.mtimeMs },
    tensors,
  };
}

/**
 * Writes VGG-16 from a safetensors file as a self-contained ONNX model (weights inline,
 * converted to float32), for other tools or for `--weights model.onnx`. Default input
 * form 'f32' (`input`, `[N,3,224,224]`, already normalised), as a PyTorch export has.
 * Holds the weights in memory twice while encoding (≈ 1.1 GB for VGG-16).
 */
export function exportVgg16Onnx(
  weightsPath: string,
  outPath: string,
  opts: BuildOptions = {},
): { naming: Vgg16Naming; layer: string } {
  const layer = opts.layer ?? DEFAULT_LAYER;
  const file = readSafetensorsHeader(weightsPath);
  const weights = resolveVgg16Weights(file, layer);
  const graphWeights = new Map<string, GraphTensor>();
  for (const t of weights.tensors) {
    const data = readTensorF32(file, t.tensor.name);
    graphWeights.set(t.key, {
      dims: t.dims,
      source: { kind: 'inline', bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
    });
  }
  writeAtomic(
    outPath,
    buildVgg16Model({
      layer,
      preprocess: opts.preprocess,
      input: opts.input ?? 'f32',
      weights: graphWeights,
    }),
  );
  return { naming: weights.naming, layer };
}
