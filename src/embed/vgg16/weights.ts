/**
 * VGG-16's architecture and the two tensor namings its published weights use:
 * torchvision's `vgg16().state_dict()` and timm's `vgg16.tv_in1k` (the file
 * `filmatlas models pull vgg16` fetches). Both hold the same numbers; timm stores the
 * fully-connected layers as convolutions (`pre_logits.fc1.weight` is `[4096,512,7,7]`),
 * whose bytes are the same as torchvision's `[4096, 25088]` linear weight.
 */
import { AtlasError } from '../../errors.js';
import { FLOAT_DTYPES, type SafetensorsFile, type SafetensorsTensor } from './safetensors.js';

/** A 3×3 convolution (stride 1, padding 1) followed by ReLU, and maybe a 2×2 max-pool. */
export interface ConvSpec {
  /** Caffe/VGG name (conv1_1 …), used for graph node outputs and the `layer` option. */
  layer: string;
  /** Index in torchvision's `features` Sequential (and timm's). */
  index: number;
  inChannels: number;
  outChannels: number;
  /** The block's 2×2 max-pool follows this convolution's ReLU, producing `pool{n}`. */
  poolAfter?: string;
}

export const VGG16_CONVS: readonly ConvSpec[] = (() => {
  const blocks = [
    [64, 2],
    [128, 2],
    [256, 3],
    [512, 3],
    [512, 3],
  ];
  const out: ConvSpec[] = [];
  let index = 0;
  let inChannels = 3;
  blocks.forEach(([channels, count], b) => {
    for (let i = 0; i < count; i++) {
      out.push({
        layer: `conv${b + 1}_${i + 1}`,
        index,
        inChannels,
        outChannels: channels,
        poolAfter: i === count - 1 ? `pool${b + 1}` : undefined,
      });
      inChannels = channels;
      index += 2; // conv, ReLU
    }
    index += 1; // max-pool
  });
  return out;
})();

/** A fully-connected layer of the classifier. */
export interface FcSpec {
  layer: 'fc6' | 'fc7' | 'fc8';
  inFeatures: number;
  outFeatures: number;
  torchvision: string;
  timm: string;
  /** The shape timm stores the weight in (as a convolution). */
  timmShape: number[];
}

export const VGG16_FCS: readonly FcSpec[] = [
  {
    layer: 'fc6',
    inFeatures: 512 * 7 * 7,
    outFeatures: 4096,
    torchvision: 'classifier.0',
    timm: 'pre_logits.fc1',
    timmShape: [4096, 512, 7, 7],
  },
  {
    layer: 'fc7',
    inFeatures: 4096,
    outFeatures: 4096,
    torchvision: 'classifier.3',
    timm: 'pre_logits.fc2',
    timmShape: [4096, 4096, 1, 1],
  },
  {
    layer: 'fc8',
    inFeatures: 4096,
    outFeatures: 1000,
    torchvision: 'classifier.6',
    timm: 'head.fc',
    timmShape: [1000, 4096],
  },
];

/**
 * Every layer output the built graph can return, in network order: conv/relu/pool per
 * block, then fc6, relu6, fc7, relu7, fc8. The default, `fc7`, is fc7 before its ReLU.
 */
export const VGG16_LAYERS: readonly string[] = [
  ...VGG16_CONVS.flatMap((c) => [
    c.layer,
    c.layer.replace('conv', 'relu'),
    ...(c.poolAfter ? [c.poolAfter] : []),
  ]),
  'fc6',
  'relu6',
  'fc7',
  'relu7',
  'fc8',
];

export const DEFAULT_LAYER = 'fc7';

/** Output size of a layer for one still (224×224 input). */
export function layerShape(layer: string): number[] {
  if (layer === 'fc8') return [1000];
  if (layer === 'fc6' || layer === 'relu6' || layer === 'fc7' || layer === 'relu7') return [4096];
  const idx = VGG16_LAYERS.indexOf(layer);
  if (idx < 0) throw new RangeError(`unknown VGG-16 layer ${layer}`);
  // Walk the convolutions up to this layer to find channels and spatial size.
  let size = 224;
  let channels = 3;
  for (const name of VGG16_LAYERS.slice(0, idx + 1)) {
    const conv = VGG16_CONVS.find((c) => c.layer === name);
    if (conv) channels = conv.outChannels;
    if (name.startsWith('pool')) size /= 2;
  }
  return [channels, size, size];
}

export type Vgg16Naming = 'torchvision' | 'timm';

/** Where one graph tensor's numbers are in the file, and the shape the graph gives them. */
export interface Vgg16TensorRef {
  /** Graph initializer name: `conv1_1.weight`, `fc6.bias`, … */
  key: string;
  tensor: SafetensorsTensor;
  /** Shape in the graph (OIHW for convolutions, `[out, in]` for Gemm with transB). Same bytes as the file's. */
  dims: number[];
}

export interface Vgg16Weights {
  file: SafetensorsFile;
  naming: Vgg16Naming;
  /** The tensors the requested layer needs, in network order. */
  tensors: Vgg16TensorRef[];
}

/** The layers a given output layer depends on. */
function layersNeeded(layer: string): { convs: ConvSpec[]; fcs: FcSpec[] } {
  const idx = VGG16_LAYERS.indexOf(layer);
  const upTo = VGG16_LAYERS.slice(0, idx + 1);
  return {
    convs: VGG16_CONVS.filter((c) => upTo.includes(c.layer)),
    fcs: VGG16_FCS.filter((f) => upTo.includes(f.layer)),
  };
}

/** Detects the naming of a safetensors file from its tensor names. */
export function detectNaming(file: SafetensorsFile): Vgg16Naming {
  if (file.tensors.has('classifier.0.weight')) return 'torchvision';
  if (file.tensors.has('pre_logits.fc1.weight')) return 'timm';
  // Convolutions only (a truncated state dict): the names agree; a missing classifier is reported by name later.
  if (file.tensors.has('features.0.weight')) return 'torchvision';
  const names = [...file.tensors.keys()];
  const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? `, … (${names.length} in all)` : '');
  throw new AtlasError(
    'MODEL',
    `${file.path} does not hold VGG-16 weights: expected torchvision tensor names (features.0.weight … classifier.0.weight) or timm names (features.0.weight … pre_logits.fc1.weight), found ${shown || 'no tensors'}`,
    {
      value: file.path,
      suggestion: 'pass the safetensors file of torchvision vgg16 or timm vgg16.tv_in1k, or an ONNX model',
    },
  );
}

/**
 * Finds and checks, from the header alone, every tensor `layer` needs: present, float,
 * and of the expected shape. A problem throws `AtlasError('MODEL')` naming the tensor,
 * the expected shape and the actual one (`features.0.weight: expected [64,3,3,3], got
 * [64,3,5,5]`), before any weight is read.
 */
export function resolveVgg16Weights(file: SafetensorsFile, layer: string = DEFAULT_LAYER): Vgg16Weights {
  if (!VGG16_LAYERS.includes(layer)) {
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `unknown VGG-16 layer '${layer}': must be one of [${VGG16_LAYERS.join(', ')}]`,
      {
        value: layer,
      },
    );
  }
  const naming = detectNaming(file);
  const { convs, fcs } = layersNeeded(layer);
  const tensors: Vgg16TensorRef[] = [];
  const take = (key: string, source: string, expected: number[], dims: number[]): void => {
    const t = file.tensors.get(source);
    if (!t) {
      throw new AtlasError(
        'MODEL',
        `${file.path} is missing tensor ${source} (expected shape [${expected.join(',')}], ${naming} naming)`,
        {
          value: file.path,
          suggestion: 'the file is not a complete VGG-16 (torchvision or timm vgg16.tv_in1k) state dict',
        },
      );
    }
    if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
      throw new AtlasError(
        'MODEL',
        `${source}: expected [${expected.join(',')}], got [${t.shape.join(',')}] in ${file.path}`,
        {
          value: file.path,
          suggestion: 'the file holds another network than VGG-16 (torchvision vgg16 / timm vgg16.tv_in1k)',
        },
      );
    }
    if (!(FLOAT_DTYPES as readonly string[]).includes(t.dtype)) {
      throw new AtlasError(
        'MODEL',
        `${source}: expected a float tensor (${FLOAT_DTYPES.join(', ')}), got ${t.dtype} in ${file.path}`,
        {
          value: file.path,
        },
      );
    }
    tensors.push({ key, tensor: t, dims });
  };
  for (const c of convs) {
    const shape = [c.outChannels, c.inChannels, 3, 3];
    take(`${c.layer}.weight`, `features.${c.index}.weight`, shape, shape);
    take(`${c.layer}.bias`, `features.${c.index}.bias`, [c.outChannels], [c.outChannels]);
  }
  for (const f of fcs) {
    const dims = [f.outFeatures, f.inFeatures];
    const prefix = naming === 'torchvision' ? f.torchvision : f.timm;
    take(`${f.layer}.weight`, `${prefix}.weight`, naming === 'torchvision' ? dims : f.timmShape, dims);
    take(`${f.layer}.bias`, `${prefix}.bias`, [f.outFeatures], [f.outFeatures]);
  }
  return { file, naming, tensors };
}

/** torchvision's state_dict names and shapes of VGG-16, in state_dict order (32 tensors). */
export function torchvisionVgg16Tensors(): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  for (const c of VGG16_CONVS) {
    out.push({ name: `features.${c.index}.weight`, shape: [c.outChannels, c.inChannels, 3, 3] });
    out.push({ name: `features.${c.index}.bias`, shape: [c.outChannels] });
  }
  for (const f of VGG16_FCS) {
    out.push({ name: `${f.torchvision}.weight`, shape: [f.outFeatures, f.inFeatures] });
    out.push({ name: `${f.torchvision}.bias`, shape: [f.outFeatures] });
  }
  return out;
}

/** timm's name and shape for a torchvision tensor name (features.* are the same). */
export function timmName(
  torchvisionName: string,
  shape: readonly number[],
): { name: string; shape: number[] } {
  for (const f of VGG16_FCS) {
    if (torchvisionName === `${f.torchvision}.weight`)
      return { name: `${f.timm}.weight`, shape: f.timmShape };
    if (torchvisionName === `${f.torchvision}.bias`) return { name: `${f.timm}.bias`, shape: [...shape] };
  }
  return { name: torchvisionName, shape: [...shape] };
}
