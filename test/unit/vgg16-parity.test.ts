/**
 * VGG-16 parity with PyTorch: the weights are rebuilt exactly as
 * ../shared/fixtures/vgg16-parity/README.md specifies, and fc7 (before ReLU) of the three
 * fixture stills in both preprocessings must agree with the reference to 1e-4 relative
 * (max |a − b| / max |b|). Also: the timm-named file gives the same output, and an ONNX
 * file works with the default layer and with an explicit one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Embedder } from '../../src/embed/embedder.js';
import { exportVgg16Onnx, prepareInt8Model, type Int8Calibration } from '../../src/embed/vgg16/build.js';
import { createVgg16Embedder } from '../../src/embed/vgg16/embedder.js';
import { writeParityWeights } from '../../src/embed/vgg16/fixture.js';
import type { ActivationQuant } from '../../src/embed/vgg16/graph.js';
import { CALIBRATION_STILLS_SHA256, quantiseConvWeights } from '../../src/embed/vgg16/int8.js';
import type { RawImage } from '../../src/types.js';

const FIXTURE = resolve(import.meta.dirname, '../../../shared/fixtures/vgg16-parity');
const TOLERANCE = 1e-4;

function readF32(name: string): Float32Array {
  const b = readFileSync(join(FIXTURE, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** max |a − b| / max |b|, and the index of the largest difference. */
function relativeError(a: Float32Array, b: Float32Array): { rel: number; at: number } {
  assert.equal(a.length, b.length);
  let maxDiff = 0;
  let maxRef = 0;
  let at = -1;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= maxDiff)) {
      maxDiff = d;
      at = i;
    }
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return { rel: maxDiff / maxRef, at };
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): number {
  const { rel, at } = relativeError(actual, expected);
  assert.ok(
    rel <= TOLERANCE,
    `${what}: relative error ${rel.toExponential(3)} > ${TOLERANCE} (worst at index ${at}: ${actual[at]} vs ${expected[at]})`,
  );
  return rel;
}

describe('vgg16 parity with PyTorch (generated weights)', () => {
  let dir: string;
  let cache: string;
  let weights: string;
  let stills: RawImage[];
  const savedCache = process.env.FILMATLAS_CACHE;
  const worst: Record<string, number> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'filmatlas-vgg16-'));
    cache = join(dir, 'cache');
    process.env.FILMATLAS_CACHE = cache;
    weights = join(dir, 'vgg16-parity.safetensors');
    writeParityWeights(weights);
    stills = await Promise.all(
      [0, 1, 2].map(async (s) => {
        const { data, info } = await sharp(join(FIXTURE, `still-${s}.png`))
          .removeAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true });
        return {
          data: new Uint8Array(data.buffer, data.byteOffset, data.length),
          width: info.width,
          height: info.height,
          channels: 3,
        } as RawImage;
      }),
    );
  });

  after(() => {
    if (savedCache === undefined) delete process.env.FILMATLAS_CACHE;
    else process.env.FILMATLAS_CACHE = savedCache;
    rmSync(dir, { recursive: true, force: true });
    console.log(`vgg16 parity: worst relative errors ${JSON.stringify(worst)}`);
  });

  async function embedAll(embedder: Embedder): Promise<Float32Array> {
    const out = new Float32Array(stills.length * embedder.dim);
    await embedder.embed(stills, out);
    return out;
  }

  for (const mode of ['imagenet', 'seed'] as const) {
    test(`fc7 of the three stills matches PyTorch (${mode})`, async () => {
      const embedder = await createVgg16Embedder({ weights, preprocess: mode, threads: 2 });
      try {
        assert.equal(embedder.id, 'vgg16');
        assert.equal(embedder.dim, 4096);
        assert.equal(embedder.preprocess, mode);
        assert.match(embedder.weightsSha256 ?? '', /^[0-9a-f]{64}$/);
        assert.deepEqual(embedder.details, {
          layer: 'fc7',
          source: 'safetensors',
          naming: 'torchvision',
          dtype: 'F32',
        });
        const out = await embedAll(embedder);
        let rel = 0;
        for (let s = 0; s < 3; s++)
          rel = Math.max(
            rel,
            assertClose(
              out.subarray(s * 4096, (s + 1) * 4096),
              readF32(`fc7-${s}-${mode}.f32`),
              `still ${s} ${mode}`,
            ),
          );
        worst[`fc7-${mode}`] = rel;
        // One still at a time gives the same rows as the batch of three.
        const single = new Float32Array(4096);
        await embedder.embed([stills[2]], single);
        worst[`fc7-${mode}-batch1`] = assertClose(
          single,
          readF32(`fc7-2-${mode}.f32`),
          `still 2 alone ${mode}`,
        );
      } finally {
        await embedder.close();
      }
    });
  }

  test('pool5 matches PyTorch, and the cached graph is reused', async () => {
    const embedder = await createVgg16Embedder({
      weights,
      preprocess: 'imagenet',
      layer: 'pool5',
      threads: 2,
    });
    try {
      assert.equal(embedder.dim, 512 * 7 * 7);
      const out = new Float32Array(embedder.dim);
      await embedder.embed([stills[0]], out);
      worst['pool5-imagenet'] = assertClose(out, readF32('pool5-0-imagenet.f32'), 'pool5 still 0');
    } finally {
      await embedder.close();
    }
    const folder = readdirSync(join(cache, 'models', 'vgg16'));
    assert.equal(folder.length, 1, 'one folder per weights file');
    const files = readdirSync(join(cache, 'models', 'vgg16', folder[0])).sort();
    assert.deepEqual(files, [
      'data.json',
      'vgg16-g1-safetensors-u8-imagenet-fc7.onnx',
      'vgg16-g1-safetensors-u8-imagenet-pool5.onnx',
      'vgg16-g1-safetensors-u8-seed-fc7.onnx',
      'weights.safetensors',
    ]);
  });

  test('timm tensor names give the same fc7', async () => {
    const timm = join(dir, 'vgg16-parity-timm.safetensors');
    writeParityWeights(timm, 'timm');
    try {
      const embedder = await createVgg16Embedder({ weights: timm, preprocess: 'seed', threads: 2 });
      try {
        assert.equal(embedder.details?.naming, 'timm');
        const out = await embedAll(embedder);
        let rel = 0;
        for (let s = 0; s < 3; s++)
          rel = Math.max(
            rel,
            assertClose(
              out.subarray(s * 4096, (s + 1) * 4096),
              readF32(`fc7-${s}-seed.f32`),
              `timm still ${s}`,
            ),
          );
        worst['fc7-seed-timm'] = rel;
      } finally {
        await embedder.close();
      }
    } finally {
      rmSync(timm, { force: true });
    }
  });

  test('an ONNX file: default layer is fc7 before ReLU, --layer picks another, unknown layers are listed', async () => {
    // A whole VGG-16 (up to fc8), as a PyTorch export would be: float input, weights inline.
    const onnxPath = join(dir, 'vgg16-parity.onnx');
    exportVgg16Onnx(weights, onnxPath, { layer: 'fc8', input: 'f32' });
    try {
      const embedder = await createVgg16Embedder({ weights: onnxPath, preprocess: 'imagenet', threads: 2 });
      try {
        assert.equal(embedder.dim, 4096);
        assert.deepEqual(embedder.details, { layer: 'fc7', source: 'onnx', naming: 'onnx' });
        const out = await embedAll(embedder);
        let rel = 0;
        for (let s = 0; s < 3; s++)
          rel = Math.max(
            rel,
            assertClose(
              out.subarray(s * 4096, (s + 1) * 4096),
              readF32(`fc7-${s}-imagenet.f32`),
              `onnx still ${s}`,
            ),
          );
        worst['fc7-imagenet-onnx'] = rel;
      } finally {
        await embedder.close();
      }

      const relu = await createVgg16Embedder({
        weights: onnxPath,
        preprocess: 'seed',
        layer: 'relu7',
        threads: 2,
      });
      try {
        assert.equal(relu.dim, 4096);
        const out = new Float32Array(4096);
        await relu.embed([stills[1]], out);
        const ref = readF32('fc7-1-seed.f32').map((v) => Math.max(0, v));
        worst['relu7-seed-onnx'] = assertClose(out, ref, 'onnx relu7');
      } finally {
        await relu.close();
      }

      await assert.rejects(
        createVgg16Embedder({ weights: onnxPath, layer: 'fc9', threads: 1 }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'INVALID_ARGUMENT');
          assert.match(err.message, /unknown layer 'fc9'/);
          assert.match(err.message, /fc6, fc7/);
          return true;
        },
      );
    } finally {
      rmSync(onnxPath, { force: true });
    }
  });

  test('int8: quantised convolutions stay within cosine 0.99 of PyTorch fc7, cached, and refused where they cannot apply', async () => {
    const embedder = await createVgg16Embedder({
      weights,
      preprocess: 'imagenet',
      precision: 'int8',
      threads: 2,
    });
    let modelPath = '';
    try {
      assert.equal(embedder.dim, 4096);
      assert.equal(embedder.details?.precision, 'int8');
      assert.match(String(embedder.details?.calibration), /^sample-48-c1$/);
      const out = await embedAll(embedder);
      const cosines: number[] = [];
      for (let s = 0; s < 3; s++) {
        const a = out.subarray(s * 4096, (s + 1) * 4096);
        const b = readF32(`fc7-${s}-imagenet.f32`);
        let ab = 0;
        let aa = 0;
        let bb = 0;
        for (let i = 0; i < 4096; i++) {
          ab += a[i] * b[i];
          aa += a[i] * a[i];
          bb += b[i] * b[i];
        }
        cosines.push(ab / Math.sqrt(aa * bb));
      }
      console.log(`vgg16 int8: cosine to PyTorch fc7 ${cosines.map((c) => c.toFixed(5)).join(', ')}`);
      for (const c of cosines) assert.ok(c >= 0.99, `int8 fc7 cosine ${c} < 0.99`);
      // Not the float graph under another name: it is quantised.
      const root = join(cache, 'models', 'vgg16');
      const folder = join(
        root,
        readdirSync(root).find((d) => readdirSync(join(root, d)).some((f) => f.includes('int8'))) ?? '',
      );
      const modelFiles = readdirSync(folder).filter((f) => f.includes('int8'));
      assert.deepEqual(modelFiles.sort(), [
        'vgg16-g1-int8-c1-safetensors-u8-imagenet-fc7.json',
        'vgg16-g1-int8-c1-safetensors-u8-imagenet-fc7.onnx',
      ]);
      modelPath = join(folder, modelFiles[1]);
      const bytes = readFileSync(modelPath);
      assert.ok(bytes.includes('QuantizeLinear'), 'the int8 graph holds QuantizeLinear nodes');
      const quant = JSON.parse(readFileSync(join(folder, modelFiles[0]), 'utf8')) as {
        activations: Record<string, { scale: number; zeroPoint: number }>;
      };
      assert.equal(Object.keys(quant.activations).length, 14, 'the input and 13 ReLUs');
      for (const [name, q] of Object.entries(quant.activations))
        assert.ok(q.scale > 0 && Number.isFinite(q.scale), `${name} scale ${q.scale}`);
    } finally {
      await embedder.close();
    }
    const built = statSync(modelPath).mtimeMs;
    const again = await createVgg16Embedder({
      weights,
      preprocess: 'imagenet',
      precision: 'int8',
      threads: 1,
    });
    await again.close();
    assert.equal(statSync(modelPath).mtimeMs, built, 'the cached int8 model is reused, not calibrated again');

    // The cache is keyed by the calibration stills' sha256 too, recorded beside the model: a
    // model recorded under other stills is calibrated again. `quantise` here hands back the
    // real quantisation calibrated above (calibrating again would only repeat ~a minute of work)
    // and counts how often the cache asked for one.
    const quantFile = modelPath.replace(/\.onnx$/, '.json');
    const recorded = JSON.parse(readFileSync(quantFile, 'utf8')) as {
      stills: string;
      activations: Record<string, ActivationQuant>;
    };
    assert.equal(recorded.stills, CALIBRATION_STILLS_SHA256);
    let calibrations = 0;
    const calibration = (stillsSha256: string): Int8Calibration => ({
      stillsSha256,
      quantise: async (_model, w) => {
        calibrations++;
        return {
          activations: new Map(Object.entries(recorded.activations)),
          convWeights: quantiseConvWeights(w),
        };
      },
    });
    const sha = again.weightsSha256!;
    const opts = { layer: 'fc7', preprocess: 'imagenet' } as const;
    const cacheRoot = join(cache, 'models');
    const other = 'e'.repeat(64);
    const rebuilt = await prepareInt8Model(weights, sha, opts, cacheRoot, calibration(other));
    assert.deepEqual([rebuilt.modelPath, rebuilt.built, calibrations], [modelPath, true, 1]);
    assert.equal(JSON.parse(readFileSync(quantFile, 'utf8')).stills, other);
    const reused = await prepareInt8Model(weights, sha, opts, cacheRoot, calibration(other));
    assert.deepEqual([reused.built, calibrations], [false, 1], 'same stills: reused');
    const back = await prepareInt8Model(
      weights,
      sha,
      opts,
      cacheRoot,
      calibration(CALIBRATION_STILLS_SHA256),
    );
    assert.deepEqual([back.built, calibrations], [true, 2], 'the pinned stills again: calibrated again');
    assert.deepEqual(JSON.parse(readFileSync(quantFile, 'utf8')), recorded);

    await assert.rejects(
      createVgg16Embedder({ weights, precision: 'fp16' }),
      /unknown precision 'fp16'.*fp32, int8/,
    );
    await assert.rejects(
      createVgg16Embedder({ weights, precision: 'int8', layer: 'pool5' }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'INVALID_ARGUMENT');
        assert.match(err.message, /fully-connected layers only.*'pool5'/);
        return true;
      },
    );
    const onnxPath = join(dir, 'vgg16-int8.onnx');
    exportVgg16Onnx(weights, onnxPath, { layer: 'fc7', input: 'f32' });
    await assert.rejects(
      createVgg16Embedder({ weights: onnxPath, precision: 'int8' }),
      /needs safetensors weights/,
    );
    rmSync(onnxPath, { force: true });
  });
});
