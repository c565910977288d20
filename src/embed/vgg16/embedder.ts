/**
 * The `vgg16` embedder: VGG-16 fc7 before ReLU (4,096 floats per still), run by ONNX
 * Runtime on the CPU, from
 * - a safetensors file with torchvision or timm tensor names: the network is built in
 *   code as an ONNX graph whose weights point into the file (see build.ts), cached by
 *   the file's sha256; or
 * - an ONNX model file (`.onnx`): cut at `layer` (default fc7 before ReLU, see
 *   onnx-file.ts), cached likewise.
 * Without `weights`, the file `filmatlas models pull vgg16` cached is used.
 */
import { existsSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { AtlasError, invalidArgument, unknownChoice } from '../../errors.js';
import { STILL_HEIGHT, STILL_WIDTH } from '../../imaging/standardise.js';
import type { RawImage } from '../../types.js';
import { modelCacheDir } from '../cache.js';
import type { Embedder, EmbedderOptions } from '../embedder.js';
import { MODELS, findCachedModel } from '../pull.js';
import { CALIBRATION_VERSION, prepareBuiltModel, prepareInt8Model } from './build.js';
import { CALIBRATION, CALIBRATION_STILLS_SHA256, calibrate } from './int8.js';
import { CANVAS, PREPROCESSINGS, type InputForm, type Preprocess } from './graph.js';
import { weightsSha256 } from './model-files.js';
import { prepareOnnxModel } from './onnx-file.js';
import { packStills, stillsToTensor } from './preprocess.js';
import { readSafetensorsHeader } from './safetensors.js';
import { DEFAULT_LAYER, resolveVgg16Weights } from './weights.js';

/** Stills per ONNX Runtime call: larger batches are split (on 2 cores throughput peaks at 4–8 and drops at 16). */
const MAX_CHUNK = 8;

export type WeightsKind = 'safetensors' | 'onnx';

/** Tells a safetensors file from an ONNX (protobuf) one by its first bytes, then by its extension. */
export function weightsKind(path: string): WeightsKind {
  const head = new Uint8Array(9);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 9, 0);
  } finally {
    closeSync(fd);
  }
  // safetensors: a little-endian u64 header length (its high bytes zero), then '{'.
  if (n === 9 && head[8] === 0x7b && head[5] === 0 && head[6] === 0 && head[7] === 0) return 'safetensors';
  if (path.toLowerCase().endsWith('.safetensors')) return 'safetensors'; // damaged: let the reader say how
  return 'onnx';
}

function noWeights(): AtlasError {
  const cached = join(modelCacheDir(), MODELS.vgg16.file);
  return new AtlasError('NOT_FOUND', `no VGG-16 weights: none were given and ${cached} does not exist`, {
    value: cached,
    suggestion:
      'on a machine with internet run `filmatlas models pull vgg16` (it caches the torchvision ImageNet weights); ' +
      'or pass `--weights FILE` with a safetensors file (torchvision or timm vgg16.tv_in1k tensor names) or an ONNX model; ' +
      `or copy the file ${MODELS.vgg16.url} to ${cached}`,
  });
}

interface Resolved {
  modelPath: string;
  layer: string;
  /** Floats per still when known from the graph. */
  dim?: number;
  /** The input form of a graph we built. */
  input?: InputForm;
  details: Record<string, string | number>;
  /** Whether the model file came from the cache (so a load failure may mean a damaged cache). */
  fromCache: boolean;
}

function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

/**
 * Creates the VGG-16 embedder. Options: `weights` (default: the cached pulled file),
 * `preprocess` ('imagenet' default, or 'seed'), `layer` (default fc7 before ReLU),
 * `threads` (ONNX Runtime intra-op threads; default all cores, 1–1024).
 */
export async function createVgg16Embedder(options: EmbedderOptions = {}): Promise<Embedder> {
  const preprocess = (options.preprocess ?? 'imagenet') as Preprocess;
  if (!Object.hasOwn(PREPROCESSINGS, preprocess))
    throw unknownChoice('preprocessing', String(options.preprocess), Object.keys(PREPROCESSINGS));
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024)
    throw invalidArgument('--threads', 'an integer from 1 to 1024', options.threads);
  if (options.layer !== undefined && (typeof options.layer !== 'string' || options.layer.length === 0)) {
    throw invalidArgument('--layer', 'a layer name', options.layer);
  }

  const precision = options.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'int8')
    throw unknownChoice('precision', String(precision), ['fp32', 'int8']);

  const weights = options.weights ?? findCachedModel('vgg16');
  if (weights === undefined) throw noWeights();
  if (!existsSync(weights) || !statSync(weights).isFile()) {
    throw new AtlasError('NOT_FOUND', `the weights file ${weights} does not exist`, {
      value: weights,
      suggestion: 'pass the path of a VGG-16 safetensors file (torchvision or timm names) or an ONNX model',
    });
  }
  const cacheRoot = modelCacheDir();
  const kind = weightsKind(weights);

  // A safetensors file's names, shapes and dtypes are checked from its header before it is hashed.
  const layer = options.layer ?? DEFAULT_LAYER;
  const checked =
    kind === 'safetensors' ? resolveVgg16Weights(readSafetensorsHeader(weights), layer) : undefined;
  const sha = await weightsSha256(weights, cacheRoot);
  const resolve = async (): Promise<Resolved> => {
    try {
      return await prepare();
    } catch (err) {
      if (err instanceof AtlasError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new AtlasError(
        'IO',
        `cannot prepare the vgg16 model in the cache ${cacheRoot}: ${(err as Error).message}`,
        {
          value: cacheRoot,
          suggestion:
            code === 'EACCES' || code === 'EROFS' || code === 'ENOSPC'
              ? 'point FILMATLAS_CACHE at a writable folder (where the weights cannot be hard-linked, a copy of them is made there)'
              : undefined,
          cause: err,
        },
      );
    }
  };
  const prepare = async (): Promise<Resolved> => {
    if (precision === 'int8') {
      if (!checked) {
        throw new AtlasError(
          'INVALID_ARGUMENT',
          `--precision int8 needs safetensors weights (the network is quantised as it is built), not the ONNX file ${weights}`,
          {
            value: weights,
          },
        );
      }
      const m = await prepareInt8Model(weights, sha, { layer, preprocess }, cacheRoot, {
        stillsSha256: CALIBRATION_STILLS_SHA256,
        quantise: (model, w) => calibrate(model, w, preprocess, threads),
      });
      return {
        modelPath: m.modelPath,
        layer,
        dim: m.dim,
        input: m.input,
        details: {
          layer,
          source: 'safetensors',
          naming: checked.naming,
          dtype: m.dtype,
          precision: 'int8',
          calibration: `sample-${CALIBRATION.movies * CALIBRATION.stillsPerMovie}-c${CALIBRATION_VERSION}`,
        },
        fromCache: !m.built,
      };
    }
    if (checked) {
      const m = prepareBuiltModel(weights, sha, { layer, preprocess, input: 'u8' }, cacheRoot);
      return {
        modelPath: m.modelPath,
        layer,
        dim: m.dim,
        input: m.input,
        details: { layer, source: 'safetensors', naming: checked.naming, dtype: m.dtype },
        fromCache: !m.built,
      };
    }
    const m = prepareOnnxModel(weights, sha, options.layer, cacheRoot);
    return {
      modelPath: m.modelPath,
      layer: m.layer,
      details: { layer: m.layer, source: 'onnx', naming: 'onnx' },
      fromCache: !m.built,
    };
  };

  let r = await resolve();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(r.modelPath, sessionOptions(threads));
  } catch (err) {
    if (!r.fromCache) throw loadError(weights, err);
    // A cached model that no longer loads (damaged, or left by another version): make it again.
    rmSync(r.modelPath, { force: true });
    rmSync(join(dirname(r.modelPath), 'data.json'), { force: true });
    r = await resolve();
    try {
      session = await ort.InferenceSession.create(r.modelPath, sessionOptions(threads));
    } catch (err2) {
      throw loadError(weights, err2);
    }
  }
  try {
    return await makeEmbedder(session, r, preprocess, sha);
  } catch (err) {
    await session.release();
    throw err;
  }
}

function loadError(weights: string, err: unknown): AtlasError {
  return new AtlasError(
    'MODEL',
    `ONNX Runtime could not load the model made from ${weights}: ${(err as Error).message?.split('\n')[0]}`,
    {
      value: weights,
      cause: err,
    },
  );
}

async function makeEmbedder(
  session: ort.InferenceSession,
  r: Resolved,
  preprocess: Preprocess,
  weightsSha256: string,
): Promise<Embedder> {
  // What the model takes: our own graph says; an ONNX file is asked.
  const inputs = session.inputMetadata;
  if (inputs.length !== 1) {
    throw new AtlasError(
      'MODEL',
      `the model takes ${inputs.length} inputs (${session.inputNames.join(', ')}); a still embedder needs exactly one image input`,
    );
  }
  const meta = inputs[0];
  if (!meta.isTensor) throw new AtlasError('MODEL', `the model's input ${meta.name} is not a tensor`);
  let form: InputForm;
  if (meta.type === 'float32') form = 'f32';
  else if (meta.type === 'uint8') form = 'u8';
  else
    throw new AtlasError(
      'MODEL',
      `the model's input ${meta.name} is ${meta.type}; expected float32 [N,3,224,224] (or uint8 [N,126,224,3])`,
    );
  if (r.input && r.input !== form)
    throw new Error(`internal: built a ${r.input} graph but it takes ${meta.type}`);
  const expected = form === 'f32' ? [3, CANVAS, CANVAS] : [STILL_HEIGHT, STILL_WIDTH, 3];
  const shape = meta.shape;
  if (shape.length !== 4 || expected.some((d, i) => typeof shape[i + 1] === 'number' && shape[i + 1] !== d)) {
    throw new AtlasError(
      'MODEL',
      `the model's input ${meta.name} has shape [${shape.join(',')}]; expected [N,${expected.join(',')}] (${form === 'f32' ? 'float32 NCHW, a 224×224 letterboxed still' : 'uint8 stills'})`,
    );
  }
  const fixedBatch = typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : undefined;
  const inputName = meta.name;
  const outputName = r.layer;
  if (!session.outputNames.includes(outputName))
    throw new Error(`internal: the model has no output ${outputName}`);
  const perStill = expected[0] * expected[1] * expected[2];
  const chunk = fixedBatch ?? MAX_CHUNK;

  let u8: Uint8Array | undefined;
  let f32: Float32Array | undefined;
  const feed = (stills: readonly RawImage[], rows: number): ort.Tensor => {
    if (form === 'u8') {
      if (!u8 || u8.length < rows * perStill) u8 = new Uint8Array(rows * perStill);
      const view = u8.subarray(0, rows * perStill);
      if (stills.length < rows) view.fill(0);
      packStills(stills, view);
      return new ort.Tensor('uint8', view, [rows, ...expected]);
    }
    if (!f32 || f32.length < rows * perStill) f32 = new Float32Array(rows * perStill);
    const view = f32.subarray(0, rows * perStill);
    if (stills.length < rows) view.fill(0);
    stillsToTensor(stills, preprocess, view);
    return new ort.Tensor('float32', view, [rows, ...expected]);
  };
  const runRows = async (stills: readonly RawImage[]): Promise<Float32Array> => {
    const rows = fixedBatch ?? stills.length;
    const result = await session.run({ [inputName]: feed(stills, rows) });
    const y = result[outputName];
    if (y.type !== 'float32')
      throw new AtlasError('MODEL', `the model's output ${outputName} is ${y.type}, not float32`);
    return y.data as Float32Array;
  };

  // The output width: from the graph when known, else from one run on a black still.
  let dim = r.dim;
  if (dim === undefined) {
    const out = session.outputMetadata.find((m) => m.name === outputName);
    const dims = out?.isTensor ? out.shape.slice(1) : [];
    if (dims.length > 0 && dims.every((d) => typeof d === 'number' && d > 0))
      dim = (dims as number[]).reduce((a, b) => a * b, 1);
    else {
      const black: RawImage = {
        data: new Uint8Array(STILL_WIDTH * STILL_HEIGHT * 3),
        width: STILL_WIDTH,
        height: STILL_HEIGHT,
        channels: 3,
      };
      dim = (await runRows([black])).length / (fixedBatch ?? 1);
    }
  }
  const width = dim;

  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();
  const embedNow = async (stills: readonly RawImage[], out: Float32Array): Promise<void> => {
    if (closed) throw new AtlasError('STATE', 'the vgg16 embedder was closed');
    if (out.length < stills.length * width)
      throw new RangeError(
        `out holds ${out.length} floats but ${stills.length} stills need ${stills.length * width}`,
      );
    for (let start = 0; start < stills.length; start += chunk) {
      const part = stills.slice(start, start + chunk);
      const y = await runRows(part);
      out.set(y.subarray(0, part.length * width), start * width);
    }
  };

  return {
    id: 'vgg16',
    dim: width,
    preprocess,
    weightsSha256,
    details: r.details,
    embed(stills, out) {
      // One run at a time: the input buffers are shared, and ONNX Runtime gains nothing from overlapping runs.
      const p = queue.then(() => embedNow(stills, out));
      queue = p.catch(() => undefined);
      return p;
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      await session.release();
    },
  };
}
