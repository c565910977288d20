/**
 * The VGG-16 parity weights of `../shared/fixtures/vgg16-parity/README.md`: every tensor
 * of torchvision's `vgg16()` state_dict filled by a counter-based generator, so this
 * implementation and PyTorch run the same network without pretrained weights. Tests use
 * it for parity; benchmarks use it for a real-size weights file (speed does not depend on
 * the values).
 *
 * Tensor k (state_dict order) with n elements, i = 0 … n-1:
 *   seed_k  = (k + 1) * 0x01000193 (mod 2^32)
 *   u_i     = lowbias32(seed_k + i * 0x9e3779b9) / 2^32
 *   value_i = float32((2 u_i − 1) · bound_k),  bound_k = sqrt(6 / fan_in) (weights), 0.01 (biases)
 */
import { writeSafetensors, type SafetensorsEntry } from './safetensors.js';
import { timmName, torchvisionVgg16Tensors, type Vgg16Naming } from './weights.js';

/** Chris Wellons' lowbias32 integer hash, on unsigned 32-bit integers. */
export function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

export interface ParityTensor {
  /** Index in torchvision's state_dict order. */
  k: number;
  /** torchvision name. */
  name: string;
  /** torchvision shape (OIHW, or [out, in] for linear layers). */
  shape: number[];
  elements: number;
  bound: number;
}

/** The 32 tensors of torchvision's VGG-16 state_dict with their generator bounds. */
export function parityTensors(): ParityTensor[] {
  return torchvisionVgg16Tensors().map(({ name, shape }, k) => {
    const elements = shape.reduce((a, b) => a * b, 1);
    const fanIn = elements / shape[0];
    return { k, name, shape, elements, bound: name.endsWith('.bias') ? 0.01 : Math.sqrt(6 / fanIn) };
  });
}

/**
 * Fills `out` with elements `[start, start + out.length)` of parity tensor `k`. Costs a
 * few nanoseconds per element and allocates nothing, so tensors can be made in chunks.
 */
export function fillParityTensor(k: number, bound: number, out: Float32Array, start = 0): void {
  const seed = Math.imul(k + 1, 0x01000193) >>> 0;
  const n = out.length;
  const scale = 2 / 4294967296;
  for (let j = 0; j < n; j++) {
    // lowbias32, inlined: this loop runs 138 million times for the full network.
    let x = (seed + Math.imul(start + j, 0x9e3779b9)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b);
    x ^= x >>> 16;
    // (2u − 1)·bound in double precision, rounded to float32 by the store.
    out[j] = ((x >>> 0) * scale - 1) * bound;
  }
}

/** Parity tensor `k` whole (for small tensors and checks). */
export function parityTensorData(k: number): Float32Array {
  const t = parityTensors()[k];
  const out = new Float32Array(t.elements);
  fillParityTensor(k, t.bound, out, 0);
  return out;
}

/**
 * Writes the parity weights as a float32 safetensors file (≈ 553 MB) with torchvision
 * names (default) or timm names and shapes (`pre_logits.fc1.weight` `[4096,512,7,7]`, …:
 * the same bytes). Tensors are generated in chunks, so memory stays flat.
 */
export function writeParityWeights(path: string, naming: Vgg16Naming = 'torchvision'): void {
  const entries: SafetensorsEntry[] = parityTensors().map((t) => {
    const { name, shape } = naming === 'timm' ? timmName(t.name, t.shape) : { name: t.name, shape: t.shape };
    return {
      name,
      shape,
      data: (out: Float32Array, start: number) => fillParityTensor(t.k, t.bound, out, start),
    };
  });
  writeSafetensors(path, entries, { format: 'pt', generator: 'filmatlas vgg16-parity (lowbias32)' });
}
