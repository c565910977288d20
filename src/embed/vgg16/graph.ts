/**
 * VGG-16 written as an ONNX graph in code, from weights we point at rather than copy.
 *
 * Each initializer either names a byte range of a file beside the model (ONNX "external
 * data": ONNX Runtime reads the weights straight from the safetensors file, so the
 * model file is a few kilobytes and nothing is copied in JavaScript) or carries its
 * bytes inline (a self-contained .onnx for export).
 *
 * Two input forms:
 * - `u8`: `stills`, uint8 `[N,126,224,3]` — the standardised stills' bytes as they are.
 *   The graph transposes to NCHW, pads 49 black rows above and below, scales to [0,1]
 *   and (for `imagenet`) normalises, so JavaScript only copies bytes. The default.
 * - `f32`: `input`, float32 `[N,3,224,224]` already padded and normalised — the form
 *   of a model exported from PyTorch.
 *
 * The network: 13 × (3×3 Conv + ReLU) with 2×2 max-pools after blocks 1–5, then Flatten
 * (NCHW order, as torch.flatten) and Gemm (transB) for fc6, fc7, fc8. torchvision's
 * adaptive average pool is the identity on the 7×7 map a 224×224 input gives, and
 * Dropout is the identity in eval mode, so neither appears.
 */
import onnxProto from 'onnx-proto';
import { STILL_HEIGHT, STILL_WIDTH } from '../../imaging/standardise.js';
import { DEFAULT_LAYER, VGG16_CONVS, VGG16_FCS, VGG16_LAYERS, layerShape } from './weights.js';

const { onnx } = onnxProto;

/**
 * Bumped whenever the graph this file writes changes, so models cached by an older
 * version are rebuilt rather than reused.
 */
export const GRAPH_VERSION = 1;

/** Per-tensor uint8 quantisation of an activation: real = scale · (q − zeroPoint). */
export interface ActivationQuant {
  scale: number;
  zeroPoint: number;
}

/**
 * The int8 form of the graph (QDQ: QuantizeLinear/DequantizeLinear pairs around each
 * convolution, which ONNX Runtime fuses into QLinearConv with uint8 activations and
 * int8 weights). Convolution weights are quantised per output channel, symmetric; the
 * fully-connected layers stay float32, so fc7 is computed in float from pool5.
 */
export interface Int8Quant {
  /** Keyed by 'input' (the normalised canvas) and by ReLU name (`relu1_1` … `relu5_3`). */
  activations: ReadonlyMap<string, ActivationQuant>;
  /** Keyed by conv layer (`conv1_1` …): int8 weights [out,in,3,3] and one scale per output channel. */
  convWeights: ReadonlyMap<string, { q: Int8Array; scales: Float32Array }>;
}

/** The canvas the network sees: the 224×126 still with 49 black rows above and below. */
export const CANVAS = 224;
export const PAD_ROWS = (CANVAS - STILL_HEIGHT) / 2;

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export type Preprocess = 'imagenet' | 'seed';
export const PREPROCESSINGS: Record<Preprocess, { description: string }> = {
  imagenet: {
    description: 'pixels / 255, then ImageNet mean/std normalisation (default; what ImageNet weights expect)',
  },
  seed: { description: 'pixels / 255, no normalisation (what the original analysis fed the network)' },
};

export type InputForm = 'u8' | 'f32';

/** Where an initializer's bytes are. */
export type TensorSource =
  | { kind: 'external'; location: string; offset: number; length: number }
  | { kind: 'inline'; bytes: Uint8Array };

export interface GraphTensor {
  dims: number[];
  source: TensorSource;
}

export interface Vgg16GraphOptions {
  /** Output layer (one of `VGG16_LAYERS`). Default 'fc7' (fc7 before ReLU). */
  layer?: string;
  /** Only for the `u8` input form: which normalisation the graph applies. Default 'imagenet'. */
  preprocess?: Preprocess;
  /** Default 'u8'. */
  input?: InputForm;
  /** Float32 weights by graph name (`conv1_1.weight`, `fc6.bias`, …), as `resolveVgg16Weights` lists them. */
  weights: ReadonlyMap<string, GraphTensor>;
  /** Build the int8 (QDQ) form; conv weights come from here, not from `weights`. */
  int8?: Int8Quant;
  /** Intermediate tensors to expose as extra float outputs (for calibration): 'input' or ReLU names. */
  extraOutputs?: readonly string[];
}

/** Input name of the built graph for each input form. */
export const INPUT_NAMES: Record<InputForm, string> = { u8: 'stills', f32: 'input' };

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const UINT8 = onnx.TensorProto.DataType.UINT8;
const INT64 = onnx.TensorProto.DataType.INT64;
const INT8 = onnx.TensorProto.DataType.INT8;
const INT32 = onnx.TensorProto.DataType.INT32;

function attrInts(name: string, ints: number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
}
function attrInt(name: string, i: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

function valueInfo(
  name: string,
  elemType: number,
  dims: (number | string)[],
): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function initializer(name: string, t: GraphTensor): onnxProto.onnx.ITensorProto {
  if (t.source.kind === 'inline') return { name, dims: t.dims, dataType: FLOAT, rawData: t.source.bytes };
  return {
    name,
    dims: t.dims,
    dataType: FLOAT,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: t.source.location },
      { key: 'offset', value: String(t.source.offset) },
      { key: 'length', value: String(t.source.length) },
    ],
  };
}

function floatConst(name: string, dims: number[], values: readonly number[]): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, floatData: [...values] };
}

/**
 * Builds the VGG-16 ONNX model (opset 17) up to `layer` and returns its bytes. The
 * output is named after the layer (`fc7`, `pool5`, …), float32 `[N, …layerShape]`.
 */
export function buildVgg16Model(opts: Vgg16GraphOptions): Uint8Array {
  const layer = opts.layer ?? DEFAULT_LAYER;
  const form = opts.input ?? 'u8';
  const preprocess = opts.preprocess ?? 'imagenet';
  const stop = VGG16_LAYERS.indexOf(layer);
  if (stop < 0) throw new RangeError(`unknown VGG-16 layer ${layer}`);
  const wanted = new Set(VGG16_LAYERS.slice(0, stop + 1));

  const nodes: onnxProto.onnx.INodeProto[] = [];
  const inits: onnxProto.onnx.ITensorProto[] = [];
  const weight = (key: string): string => {
    const t = opts.weights.get(key);
    if (!t) throw new RangeError(`no weights for ${key}`);
    inits.push(initializer(key, t));
    return key;
  };

  let x: string;
  let input: onnxProto.onnx.IValueInfoProto;
  if (form === 'u8') {
    input = valueInfo(INPUT_NAMES.u8, UINT8, ['batch', STILL_HEIGHT, STILL_WIDTH, 3]);
    // Pad the uint8 pixels with zeros before normalising, as the reference pads the
    // image with black and then normalises (so the bars become −mean/std).
    inits.push({
      name: 'pads',
      dims: [8],
      dataType: INT64,
      int64Data: [0, 0, PAD_ROWS, 0, 0, 0, PAD_ROWS, 0],
    });
    inits.push({ name: 'black', dims: [], dataType: UINT8, rawData: new Uint8Array([0]) });
    inits.push(floatConst('max_value', [], [255]));
    nodes.push({
      opType: 'Transpose',
      input: [INPUT_NAMES.u8],
      output: ['chw'],
      attribute: [attrInts('perm', [0, 3, 1, 2])],
      name: 'to_nchw',
    });
    nodes.push({ opType: 'Pad', input: ['chw', 'pads', 'black'], output: ['canvas'], name: 'letterbox' });
    nodes.push({
      opType: 'Cast',
      input: ['canvas'],
      output: ['canvas_f'],
      attribute: [attrInt('to', FLOAT)],
      name: 'to_float',
    });
    nodes.push({ opType: 'Div', input: ['canvas_f', 'max_value'], output: ['unit'], name: 'to_unit' });
    x = 'unit';
    if (preprocess === 'imagenet') {
      inits.push(floatConst('mean', [1, 3, 1, 1], IMAGENET_MEAN));
      inits.push(floatConst('std', [1, 3, 1, 1], IMAGENET_STD));
      nodes.push({ opType: 'Sub', input: ['unit', 'mean'], output: ['centred'], name: 'sub_mean' });
      nodes.push({ opType: 'Div', input: ['centred', 'std'], output: ['normalised'], name: 'div_std' });
      x = 'normalised';
    }
  } else {
    input = valueInfo(INPUT_NAMES.f32, FLOAT, ['batch', 3, CANVAS, CANVAS]);
    x = INPUT_NAMES.f32;
  }

  const named = new Map<string, string>([['input', x]]);
  const q8 = opts.int8;
  let quant: ActivationQuant | undefined;
  // x → QuantizeLinear → DequantizeLinear at the current activation's scale.
  const qdq = (t: string): string => {
    if (!quant) throw new Error(`internal: no quantisation for ${t}`);
    const s = `${t}.qscale`;
    const z = `${t}.qzero`;
    inits.push(floatConst(s, [], [quant.scale]), {
      name: z,
      dims: [],
      dataType: UINT8,
      rawData: new Uint8Array([quant.zeroPoint]),
    });
    nodes.push({ opType: 'QuantizeLinear', name: `${t}.quantize`, input: [t, s, z], output: [`${t}.q`] });
    nodes.push({
      opType: 'DequantizeLinear',
      name: `${t}.dequantize`,
      input: [`${t}.q`, s, z],
      output: [`${t}.dq`],
    });
    return `${t}.dq`;
  };
  if (q8) {
    quant = q8.activations.get('input');
    if (!quant) throw new RangeError('int8: no quantisation for the input');
  }
  for (const c of VGG16_CONVS) {
    if (!wanted.has(c.layer)) break;
    let w: string;
    let b: string;
    if (q8 && quant) {
      x = qdq(x);
      const cw = q8.convWeights.get(c.layer);
      if (!cw) throw new RangeError(`int8: no weights for ${c.layer}`);
      const bias = opts.weights.get(`${c.layer}.bias`);
      if (!bias || bias.source.kind !== 'inline')
        throw new RangeError(`int8: the bias of ${c.layer} must be inline`);
      const bf = new Float32Array(bias.source.bytes.slice().buffer);
      const out = c.outChannels;
      const bq = new Int32Array(out);
      const bs = new Float32Array(out);
      for (let o = 0; o < out; o++) {
        bs[o] = quant.scale * cw.scales[o];
        bq[o] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(bf[o] / bs[o])));
      }
      const dims = [out, c.inChannels, 3, 3];
      inits.push(
        {
          name: `${c.layer}.wq`,
          dims,
          dataType: INT8,
          rawData: new Uint8Array(cw.q.buffer, cw.q.byteOffset, cw.q.byteLength),
        },
        {
          name: `${c.layer}.ws`,
          dims: [out],
          dataType: FLOAT,
          rawData: new Uint8Array(cw.scales.slice().buffer),
        },
        { name: `${c.layer}.wz`, dims: [out], dataType: INT8, rawData: new Uint8Array(out) },
        { name: `${c.layer}.bq`, dims: [out], dataType: INT32, rawData: new Uint8Array(bq.buffer) },
        { name: `${c.layer}.bs`, dims: [out], dataType: FLOAT, rawData: new Uint8Array(bs.buffer) },
        { name: `${c.layer}.bz`, dims: [out], dataType: INT32, rawData: new Uint8Array(out * 4) },
      );
      const axis0 = [attrInt('axis', 0)];
      nodes.push({
        opType: 'DequantizeLinear',
        name: `${c.layer}.wdq`,
        input: [`${c.layer}.wq`, `${c.layer}.ws`, `${c.layer}.wz`],
        output: [`${c.layer}.w`],
        attribute: axis0,
      });
      nodes.push({
        opType: 'DequantizeLinear',
        name: `${c.layer}.bdq`,
        input: [`${c.layer}.bq`, `${c.layer}.bs`, `${c.layer}.bz`],
        output: [`${c.layer}.b`],
        attribute: axis0,
      });
      w = `${c.layer}.w`;
      b = `${c.layer}.b`;
    } else {
      w = weight(`${c.layer}.weight`);
      b = weight(`${c.layer}.bias`);
    }
    nodes.push({
      opType: 'Conv',
      name: c.layer,
      input: [x, w, b],
      output: [c.layer],
      attribute: [
        attrInts('kernel_shape', [3, 3]),
        attrInts('pads', [1, 1, 1, 1]),
        attrInts('strides', [1, 1]),
      ],
    });
    x = c.layer;
    const relu = c.layer.replace('conv', 'relu');
    if (!wanted.has(relu)) break;
    nodes.push({ opType: 'Relu', name: relu, input: [x], output: [relu] });
    x = relu;
    named.set(relu, relu);
    if (q8) {
      quant = q8.activations.get(relu);
      if (!quant) throw new RangeError(`int8: no quantisation for ${relu}`);
      x = qdq(x);
    }
    if (c.poolAfter) {
      if (!wanted.has(c.poolAfter)) break;
      nodes.push({
        opType: 'MaxPool',
        name: c.poolAfter,
        input: [x],
        output: [c.poolAfter],
        attribute: [attrInts('kernel_shape', [2, 2]), attrInts('strides', [2, 2])],
      });
      x = c.poolAfter;
      // A pool between two quantised tensors runs on uint8 (ONNX Runtime moves the pair across it).
      if (q8) x = qdq(x);
    }
  }
  if (wanted.has('fc6')) {
    nodes.push({
      opType: 'Flatten',
      name: 'flatten',
      input: [x],
      output: ['flatten'],
      attribute: [attrInt('axis', 1)],
    });
    x = 'flatten';
    for (const f of VGG16_FCS) {
      if (!wanted.has(f.layer)) break;
      nodes.push({
        opType: 'Gemm',
        name: f.layer,
        input: [x, weight(`${f.layer}.weight`), weight(`${f.layer}.bias`)],
        output: [f.layer],
        attribute: [attrInt('transB', 1)],
      });
      x = f.layer;
      const relu = `relu${f.layer.slice(2)}`;
      if (f.layer === 'fc8' || !wanted.has(relu)) break;
      nodes.push({ opType: 'Relu', name: relu, input: [x], output: [relu] });
      x = relu;
    }
  }
  if (x !== layer) throw new Error(`internal: graph ended at ${x}, not ${layer}`);

  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'filmatlas',
    producerVersion: `vgg16-graph-${GRAPH_VERSION}`,
    docString: `VGG-16 up to ${layer}; input ${form}${form === 'u8' ? `, ${preprocess} preprocessing` : ''}`,
    graph: {
      name: 'vgg16',
      node: nodes,
      initializer: inits,
      input: [input],
      output: [
        valueInfo(layer, FLOAT, ['batch', ...layerShape(layer)]),
        ...(opts.extraOutputs ?? []).map((name) => {
          const t = named.get(name);
          if (!t) throw new RangeError(`no tensor ${name} to expose before ${layer}`);
          if (t !== name)
            nodes.push({ opType: 'Identity', name: `expose_${name}`, input: [t], output: [name] });
          return { name, type: { tensorType: { elemType: FLOAT } } };
        }),
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
