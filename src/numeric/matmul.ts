/**
 * Dense float32 matrix products on ONNX Runtime's MatMul (MLAS), which runs at
 * ~225 GFLOP/s on this project's 2-core reference machine, where a JavaScript loop
 * manages ~1. Matrices are row-major Float32Arrays. One small ONNX graph per product
 * form (A·B and A·Bᵀ), with symbolic dimensions, is built once per process; sessions
 * are shared and reused across calls.
 *
 * Callers stream big matrices through these in row blocks, so memory stays near the
 * blocks in flight.
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** 'nn': A·B with A [m,k], B [k,n]. 'nt': A·Bᵀ with A [m,k], B [n,k]. */
export type ProductForm = 'nn' | 'nt';

function tensorInfo(name: string, dims: string[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimParam: d })) } } },
  };
}

function productModel(form: ProductForm): Uint8Array {
  const nodes: onnxProto.onnx.INodeProto[] =
    form === 'nn'
      ? [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'], name: 'matmul' }]
      : [
          {
            opType: 'Transpose',
            input: ['b'],
            output: ['bt'],
            attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0] }],
            name: 't',
          },
          { opType: 'MatMul', input: ['a', 'bt'], output: ['c'], name: 'matmul' },
        ];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'filmatlas',
    graph: {
      name: `product_${form}`,
      node: nodes,
      input: [tensorInfo('a', ['m', 'k']), tensorInfo('b', form === 'nn' ? ['k', 'n'] : ['n', 'k'])],
      output: [tensorInfo('c', ['m', 'n'])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function session(form: ProductForm, threads: number): Promise<ort.InferenceSession> {
  const key = `${form}/${threads}`;
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(productModel(form), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    sessions.set(key, s);
  }
  return s;
}

export interface MatmulOptions {
  /** ONNX Runtime intra-op threads. Default: all cores. */
  threads?: number;
}

function check(name: string, x: Float32Array, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0)
    throw new RangeError(`${name}: bad shape ${rows}×${cols}`);
  if (x.length < rows * cols)
    throw new RangeError(`${name} holds ${x.length} floats, fewer than ${rows}×${cols}`);
}

/**
 * C = A·B (form 'nn', B is [k,n]) or A·Bᵀ (form 'nt', B is [n,k]); A is [m,k].
 * Returns C as a new row-major [m,n] Float32Array.
 */
export async function matmul(
  form: ProductForm,
  a: Float32Array,
  m: number,
  k: number,
  b: Float32Array,
  n: number,
  options: MatmulOptions = {},
): Promise<Float32Array> {
  check('A', a, m, k);
  check('B', b, form === 'nn' ? k : n, form === 'nn' ? n : k);
  if (m === 0 || n === 0) return new Float32Array(m * n);
  if (k === 0) return new Float32Array(m * n);
  const s = await session(form, options.threads ?? availableParallelism());
  const ta = new ort.Tensor('float32', a.length === m * k ? a : a.subarray(0, m * k), [m, k]);
  const tb = new ort.Tensor(
    'float32',
    b.length === n * k ? b : b.subarray(0, n * k),
    form === 'nn' ? [k, n] : [n, k],
  );
  const r = await s.run({ a: ta, b: tb });
  const c = r.c.data as Float32Array;
  return c;
}

/** Releases the cached sessions (tests and long-lived servers that are done with them). */
export async function releaseMatmulSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const s of all) await (await s).release();
}
