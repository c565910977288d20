/**
 * VGG-16 weights files: the safetensors reader, tensor names and shapes (torchvision and
 * timm), the errors a wrong file gets, F16/BF16 conversion, the parity generator, and
 * the error when there are no weights at all. Small files only: shape checks happen on
 * the header, before any weight is read.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AtlasError } from '../../src/errors.js';
import { createVgg16Embedder } from '../../src/embed/vgg16/embedder.js';
import { fillParityTensor, lowbias32, parityTensors } from '../../src/embed/vgg16/fixture.js';
import {
  readSafetensorsHeader,
  readTensorF32,
  writeSafetensors,
  type SafetensorsFile,
  type SafetensorsTensor,
} from '../../src/embed/vgg16/safetensors.js';
import {
  resolveVgg16Weights,
  torchvisionVgg16Tensors,
  timmName,
  VGG16_LAYERS,
} from '../../src/embed/vgg16/weights.js';
import type { RawImage } from '../../src/types.js';

const FIXTURE = resolve(import.meta.dirname, '../../../shared/fixtures/vgg16-parity');

/** A header-only view of a VGG-16 file with the given tensors (for name/shape checks without data). */
function headerOnly(
  tensors: { name: string; shape: number[]; dtype?: string }[],
  path = '/weights/vgg16.safetensors',
): SafetensorsFile {
  const map = new Map<string, SafetensorsTensor>();
  let offset = 8;
  for (const t of tensors) {
    const elements = t.shape.reduce((a, b) => a * b, 1);
    map.set(t.name, {
      name: t.name,
      dtype: t.dtype ?? 'F32',
      shape: t.shape,
      elements,
      offset,
      byteLength: elements * 4,
    });
    offset += elements * 4;
  }
  return { path, size: offset, dataStart: 8, tensors: map, metadata: {} };
}

/** Writes a raw safetensors file from a header object and a data section. */
function rawSafetensors(path: string, header: unknown, data: Uint8Array, lengthField?: bigint): void {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthField ?? BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, data]));
}

function isModelError(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AtlasError, `expected an AtlasError, got ${String(err)}`);
    assert.equal(err.code, 'MODEL', err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

/** Half-precision bits of a value exactly representable in float16 (test values only). */
function toHalfBits(v: number): number {
  if (v === 0) return 0;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  const e = Math.floor(Math.log2(a));
  const mant = Math.round((a / 2 ** e - 1) * 1024);
  return sign | ((e + 15) << 10) | mant;
}

describe('vgg16 weights', () => {
  let dir: string;
  const savedCache = process.env.FILMATLAS_CACHE;
  const savedXdg = process.env.XDG_CACHE_HOME;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'filmatlas-vgg16w-'));
    process.env.FILMATLAS_CACHE = join(dir, 'cache');
  });
  after(() => {
    if (savedCache === undefined) delete process.env.FILMATLAS_CACHE;
    else process.env.FILMATLAS_CACHE = savedCache;
    if (savedXdg === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedXdg;
    rmSync(dir, { recursive: true, force: true });
  });

  test('the parity generator reproduces the reference table', () => {
    const ref = JSON.parse(readFileSync(join(FIXTURE, 'reference.json'), 'utf8')) as {
      tensors: { k: number; name: string; shape: number[]; bound: number; first: number[] }[];
    };
    const ours = parityTensors();
    assert.equal(ours.length, 32);
    assert.equal(ref.tensors.length, 32);
    for (const r of ref.tensors) {
      const t = ours[r.k];
      assert.equal(t.name, r.name);
      assert.deepEqual(t.shape, r.shape);
      assert.ok(Math.abs(t.bound - r.bound) < 1e-15, `${r.name} bound ${t.bound} vs ${r.bound}`);
      const first = new Float32Array(r.first.length);
      fillParityTensor(t.k, t.bound, first, 0);
      assert.deepEqual([...first], r.first, r.name);
    }
    // Chunks continue the counter: elements 5..7 made alone equal those made with 0..7.
    const whole = new Float32Array(8);
    const tail = new Float32Array(3);
    fillParityTensor(4, 0.1, whole, 0);
    fillParityTensor(4, 0.1, tail, 5);
    assert.deepEqual([...tail], [...whole.subarray(5)]);
    assert.equal(lowbias32(0), 0);
    assert.equal(lowbias32(1), lowbias32(1) >>> 0);
  });

  test('safetensors round trip, reading one tensor without the others', () => {
    const path = join(dir, 'small.safetensors');
    const a = Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1);
    writeSafetensors(path, [
      { name: 'a', shape: [2, 3], data: a },
      { name: 'b', shape: [5], data: (out, start) => out.forEach((_, i) => (out[i] = start + i)) },
    ]);
    const file = readSafetensorsHeader(path);
    assert.equal((file.dataStart - 8) % 8, 0, 'header padded to 8 bytes');
    assert.deepEqual(file.tensors.get('a')?.shape, [2, 3]);
    assert.deepEqual([...readTensorF32(file, 'a')], [...a]);
    assert.deepEqual([...readTensorF32(file, 'b')], [0, 1, 2, 3, 4]);
  });

  test('F16 and BF16 tensors are read as float32', () => {
    const values = [0, 1, -2, 0.5, -0.046875, 1024, 65504];
    const f16 = new Uint16Array(values.map(toHalfBits));
    const bf16 = new Uint16Array(values.map((v) => new Uint32Array(new Float32Array([v]).buffer)[0] >>> 16));
    const path = join(dir, 'half.safetensors');
    const n = values.length * 2;
    rawSafetensors(
      path,
      {
        h: { dtype: 'F16', shape: [values.length], data_offsets: [0, n] },
        b: { dtype: 'BF16', shape: [values.length], data_offsets: [n, 2 * n] },
      },
      Buffer.concat([Buffer.from(f16.buffer), Buffer.from(bf16.buffer)]),
    );
    const file = readSafetensorsHeader(path);
    assert.deepEqual([...readTensorF32(file, 'h')], values);
    // bfloat16 keeps 8 mantissa bits: 65504 was cut to 65280 when written.
    assert.deepEqual(
      [...readTensorF32(file, 'b')],
      values.map((v) => (v === 65504 ? 65280 : v)),
    );
  });

  test('a wrong shape names the tensor, the expected and the actual shape', () => {
    const names = torchvisionVgg16Tensors();
    const wrong = names.map((t) => (t.name === 'features.0.weight' ? { ...t, shape: [64, 3, 5, 5] } : t));
    assert.throws(
      () => resolveVgg16Weights(headerOnly(wrong)),
      isModelError(/features\.0\.weight: expected \[64,3,3,3\], got \[64,3,5,5\]/),
    );

    const fc = names.map((t) => (t.name === 'classifier.0.weight' ? { ...t, shape: [4096, 4096] } : t));
    assert.throws(
      () => resolveVgg16Weights(headerOnly(fc)),
      isModelError(/classifier\.0\.weight: expected \[4096,25088\], got \[4096,4096\]/),
    );

    // timm stores fc6 as a 7×7 convolution; a torchvision-shaped fc1 under timm names is wrong.
    const timm = names
      .map((t) => timmName(t.name, t.shape))
      .map((t) => (t.name === 'pre_logits.fc1.weight' ? { ...t, shape: [4096, 25088] } : t));
    assert.throws(
      () => resolveVgg16Weights(headerOnly(timm)),
      isModelError(/pre_logits\.fc1\.weight: expected \[4096,512,7,7\], got \[4096,25088\]/),
    );

    const ints = names.map((t) => (t.name === 'features.10.bias' ? { ...t, dtype: 'I64' } : t));
    assert.throws(
      () => resolveVgg16Weights(headerOnly(ints)),
      isModelError(/features\.10\.bias: expected a float tensor .* got I64/),
    );
  });

  test('correct headers resolve, in both namings; fc8 is needed only when asked for', () => {
    const names = torchvisionVgg16Tensors();
    const tv = resolveVgg16Weights(headerOnly(names));
    assert.equal(tv.naming, 'torchvision');
    assert.equal(tv.tensors.length, 30, '13 convolutions + fc6 + fc7, weight and bias each');
    assert.deepEqual(tv.tensors.at(-4)?.dims, [4096, 25088]);
    const timm = resolveVgg16Weights(headerOnly(names.map((t) => timmName(t.name, t.shape))));
    assert.equal(timm.naming, 'timm');
    assert.deepEqual(
      timm.tensors.map((t) => t.dims),
      tv.tensors.map((t) => t.dims),
    );
    assert.equal(timm.tensors.find((t) => t.key === 'fc6.weight')?.tensor.name, 'pre_logits.fc1.weight');

    const noFc8 = names.filter((t) => !t.name.startsWith('classifier.6'));
    assert.equal(resolveVgg16Weights(headerOnly(noFc8), 'fc7').tensors.length, 30);
    assert.throws(
      () => resolveVgg16Weights(headerOnly(noFc8), 'fc8'),
      isModelError(/missing tensor classifier\.6\.weight \(expected shape \[1000,4096\]/),
    );
    assert.equal(resolveVgg16Weights(headerOnly(names.slice(0, 2)), 'conv1_1').tensors.length, 2);
  });

  test('a missing tensor is named', () => {
    const names = torchvisionVgg16Tensors().filter((t) => t.name !== 'features.28.bias');
    assert.throws(
      () => resolveVgg16Weights(headerOnly(names)),
      isModelError(/missing tensor features\.28\.bias \(expected shape \[512\]/),
    );
    assert.throws(
      () => resolveVgg16Weights(headerOnly([{ name: 'conv1.weight', shape: [64, 3, 7, 7] }])),
      isModelError(/does not hold VGG-16 weights.*found conv1\.weight/),
    );
  });

  test('the embedder fails on a wrong file from its header, before hashing or building anything', async () => {
    const path = join(dir, 'wrong-shape.safetensors');
    writeSafetensors(path, [
      { name: 'features.0.weight', shape: [64, 3, 5, 5], data: new Float32Array(64 * 3 * 25) },
      { name: 'features.0.bias', shape: [64], data: new Float32Array(64) },
      { name: 'classifier.0.weight', shape: [2, 2], data: new Float32Array(4) },
    ]);
    await assert.rejects(
      createVgg16Embedder({ weights: path, threads: 1 }),
      isModelError(
        /features\.0\.weight: expected \[64,3,3,3\], got \[64,3,5,5\] in .*wrong-shape\.safetensors/,
      ),
    );
    const missing = join(dir, 'missing.safetensors');
    writeSafetensors(missing, [
      { name: 'features.0.weight', shape: [64, 3, 3, 3], data: new Float32Array(64 * 27) },
      { name: 'classifier.0.weight', shape: [2, 2], data: new Float32Array(4) },
    ]);
    await assert.rejects(
      createVgg16Embedder({ weights: missing, threads: 1 }),
      isModelError(/missing tensor features\.0\.bias/),
    );
    assert.equal(existsSync(join(dir, 'cache', 'models', 'hashes')), false, 'nothing hashed');
    assert.equal(existsSync(join(dir, 'cache', 'models', 'vgg16')), false, 'nothing built');
  });

  test('corrupt and truncated safetensors files fail naming the file', () => {
    const path = join(dir, 'corrupt.safetensors');
    const ok = { 'features.0.bias': { dtype: 'F32', shape: [4], data_offsets: [0, 16] } };
    const cases: [string, () => void, RegExp][] = [
      [
        'too short',
        () => writeFileSync(path, Buffer.from([1, 2, 3])),
        /shorter than the 8-byte header length/,
      ],
      [
        'header length beyond the file',
        () => rawSafetensors(path, ok, new Uint8Array(16), 10_000n),
        /header length field says 10000 bytes but the file has only/,
      ],
      [
        'absurd header length',
        () => rawSafetensors(path, ok, new Uint8Array(16), 1n << 40n),
        /header length field says/,
      ],
      [
        'not JSON',
        () =>
          writeFileSync(path, Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a":')])),
        /not valid JSON/,
      ],
      [
        'truncated data',
        () => rawSafetensors(path, ok, new Uint8Array(10)),
        /ends at data byte 16 but the file holds only 10 bytes of data \(truncated\?\)/,
      ],
      [
        'size mismatch',
        () =>
          rawSafetensors(
            path,
            { x: { dtype: 'F32', shape: [5], data_offsets: [0, 16] } },
            new Uint8Array(16),
          ),
        /should take 20 bytes but its data_offsets span 16/,
      ],
      [
        'unknown dtype',
        () =>
          rawSafetensors(path, { x: { dtype: 'Q4', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(16)),
        /unknown dtype "Q4"/,
      ],
      [
        'overlap',
        () =>
          rawSafetensors(
            path,
            {
              x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
              y: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
            },
            new Uint8Array(16),
          ),
        /overlap/,
      ],
    ];
    for (const [what, write, pattern] of cases) {
      write();
      assert.throws(
        () => readSafetensorsHeader(path),
        (err: unknown) => {
          isModelError(pattern)(err);
          assert.ok((err as Error).message.includes(path), `${what}: names the file`);
          return true;
        },
        what,
      );
    }
  });

  test('F16 weights are converted once into the cache and give the float32 result', async () => {
    // conv1_1 alone (64 filters): values exactly representable in float16, so both files hold the same numbers.
    const w = new Float32Array(64 * 27).map((_, i) => ((i % 97) - 48) / 1024);
    const b = new Float32Array(64).map((_, i) => (i - 32) / 256);
    const f32Path = join(dir, 'conv1.safetensors');
    writeSafetensors(f32Path, [
      { name: 'features.0.weight', shape: [64, 3, 3, 3], data: w },
      { name: 'features.0.bias', shape: [64], data: b },
      { name: 'classifier.0.weight', shape: [1], data: new Float32Array(1) },
    ]);
    const f16Path = join(dir, 'conv1-f16.safetensors');
    const half = (a: Float32Array): Buffer => Buffer.from(new Uint16Array([...a].map(toHalfBits)).buffer);
    rawSafetensors(
      f16Path,
      {
        'features.0.weight': { dtype: 'F16', shape: [64, 3, 3, 3], data_offsets: [0, w.length * 2] },
        'features.0.bias': { dtype: 'F16', shape: [64], data_offsets: [w.length * 2, w.length * 2 + 128] },
        'classifier.0.weight': {
          dtype: 'F16',
          shape: [1],
          data_offsets: [w.length * 2 + 128, w.length * 2 + 130],
        },
      },
      Buffer.concat([half(w), half(b), Buffer.alloc(2)]),
    );
    const still: RawImage = {
      data: new Uint8Array(224 * 126 * 3).map((_, i) => (i * 7) % 256),
      width: 224,
      height: 126,
      channels: 3,
    };
    const outs: Float32Array[] = [];
    for (const path of [f32Path, f16Path]) {
      const e = await createVgg16Embedder({ weights: path, layer: 'conv1_1', threads: 1 });
      try {
        assert.equal(e.dim, 64 * 224 * 224);
        assert.equal(e.details?.dtype, path === f16Path ? 'F16' : 'F32');
        const out = new Float32Array(e.dim);
        await e.embed([still], out);
        outs.push(out);
      } finally {
        await e.close();
      }
    }
    let maxDiff = 0;
    for (let i = 0; i < outs[0].length; i++) maxDiff = Math.max(maxDiff, Math.abs(outs[0][i] - outs[1][i]));
    assert.ok(maxDiff === 0, `F16 and F32 files differ by ${maxDiff}`);
  });

  test('no weights and nothing cached: NOT_FOUND saying how to get them', async () => {
    process.env.FILMATLAS_CACHE = join(dir, 'empty-cache');
    try {
      await assert.rejects(createVgg16Embedder({}), (err: unknown) => {
        assert.ok(err instanceof AtlasError);
        assert.equal(err.code, 'NOT_FOUND');
        assert.match(err.message, /no VGG-16 weights/);
        assert.ok(
          err.message.includes(join(dir, 'empty-cache', 'models', 'vgg16.tv_in1k.safetensors')),
          err.message,
        );
        assert.match(err.suggestion ?? '', /filmatlas models pull vgg16/);
        assert.match(err.suggestion ?? '', /--weights FILE/);
        return true;
      });
    } finally {
      process.env.FILMATLAS_CACHE = join(dir, 'cache');
    }
    await assert.rejects(createVgg16Embedder({ weights: join(dir, 'nope.safetensors') }), (err: unknown) => {
      assert.ok(err instanceof AtlasError);
      assert.equal(err.code, 'NOT_FOUND');
      assert.match(err.message, /nope\.safetensors does not exist/);
      return true;
    });
  });

  test('bad options name the value', async () => {
    const path = join(dir, 'options.safetensors');
    writeSafetensors(path, [
      { name: 'features.0.weight', shape: [64, 3, 3, 3], data: new Float32Array(64 * 27) },
      { name: 'features.0.bias', shape: [64], data: new Float32Array(64) },
      { name: 'classifier.0.weight', shape: [1], data: new Float32Array(1) },
    ]);
    await assert.rejects(
      createVgg16Embedder({ weights: path, preprocess: 'caffe' }),
      /unknown preprocessing 'caffe': must be one of \[imagenet, seed\]/,
    );
    await assert.rejects(
      createVgg16Embedder({ weights: path, threads: 0 }),
      /expected an integer from 1 to 1024 for --threads but got 0/,
    );
    await assert.rejects(createVgg16Embedder({ weights: path, layer: 'fc9' }), (err: unknown) => {
      assert.ok(err instanceof AtlasError);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.match(err.message, /unknown VGG-16 layer 'fc9': must be one of \[conv1_1, relu1_1/);
      assert.ok(VGG16_LAYERS.every((l) => err.message.includes(l)));
      return true;
    });
  });
});
