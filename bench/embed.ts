/**
 * `npm run bench:embed`: stills/s of `filmatlas embed` for VGG-16 fc7 (batch 1 and 8)
 * and the colour embedder, next to
 *   - bare ONNX Runtime on the same graph with the stills already in memory (what the
 *     pipeline around the model — PNG decode, feature store, catalogue — costs), and
 *   - PyTorch (../shared/anchors/torch_vgg16.py, torchvision VGG-16, 2 threads),
 * in the same run, interleaved round by round, with each side's peak RSS.
 *
 *   npm run bench:embed [-- --rounds 3] [--stills 200] [--weights FILE] [--json]
 *
 * Weights: --weights, else $FILMATLAS_WEIGHTS, else the `models pull` download, else
 * generated parity weights (same shapes, so the same speed). Stills: the anchor set of
 * 500×213 JPEGs (../shared/anchors/gen_images.py), ingested once into bench/out.
 * Figures only: nothing passes or fails on time.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { openAtlas } from '../src/atlas/atlas.js';
import { readStill } from '../src/atlas/stills.js';
import { findCachedModel } from '../src/embed/pull.js';
import { colorFeatures, COLOR_DIM } from '../src/embed/color.js';
import { embedStills } from '../src/embed/run.js';
import { prepareBuiltModel } from '../src/embed/vgg16/build.js';
import { createVgg16Embedder } from '../src/embed/vgg16/embedder.js';
import { writeParityWeights } from '../src/embed/vgg16/fixture.js';
import { weightsSha256 } from '../src/embed/vgg16/model-files.js';
import { packStills } from '../src/embed/vgg16/preprocess.js';
import { ingestStills } from '../src/sources/ingest.js';
import type { RawImage } from '../src/types.js';

const here = import.meta.dirname;
const out = resolve(here, 'out');
const anchors = resolve(here, '../../shared/anchors');
const python = '/usr/bin/python3';
const cacheRoot = join(out, 'cache');
process.env.FILMATLAS_CACHE = cacheRoot;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Measure {
  rate: number;
  stills: number;
  seconds: number;
  /** Peak resident set size of the process, MiB. */
  rssMiB: number;
}

// ---------------------------------------------------------------------------
// Child mode: one measurement per process, so each reports its own peak RSS.

async function loadStills(atlasDir: string, n: number): Promise<RawImage[]> {
  const atlas = await openAtlas(atlasDir);
  try {
    const stills = (await atlas.catalog.stills('ready')).slice(0, n);
    return await Promise.all(stills.map((s) => readStill(atlas, s)));
  } finally {
    await atlas.close();
  }
}

/** The whole `embed` stage, timed from the first batch (after the model is loaded) to the end. */
async function childPipeline(o: {
  atlas: string;
  model: string;
  weights?: string;
  batch: number;
  precision?: string;
}): Promise<Measure> {
  const atlas = await openAtlas(o.atlas);
  try {
    let t0 = 0;
    const r = await embedStills(atlas, {
      model: o.model,
      weights: o.weights,
      batch: o.batch,
      precision: o.precision,
      redo: true,
      onProgress: (p) => {
        if (p.done === 0) t0 = performance.now();
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    return { rate: r.embedded / seconds, stills: r.embedded, seconds, rssMiB: 0 };
  } finally {
    await atlas.close();
  }
}

/** The same graph and session options as the embedder, fed stills already decoded and packed. */
async function childBareOrt(o: {
  atlas: string;
  weights: string;
  batch: number;
  stills: number;
}): Promise<Measure> {
  const sha = await weightsSha256(o.weights, join(cacheRoot, 'models'));
  const m = prepareBuiltModel(o.weights, sha, { input: 'u8' }, join(cacheRoot, 'models'));
  const session = await ort.InferenceSession.create(m.modelPath, {
    intraOpNumThreads: cpus().length,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const stills = await loadStills(o.atlas, o.stills);
  const per = 126 * 224 * 3;
  const packed = new Uint8Array(o.batch * per);
  const feeds = (k: number) => new ort.Tensor('uint8', packed.subarray(0, k * per), [k, 126, 224, 3]);
  const inputName = session.inputNames[0];
  packStills(stills.slice(0, o.batch), packed);
  await session.run({ [inputName]: feeds(o.batch) }); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < stills.length; i += o.batch) {
    const part = stills.slice(i, i + o.batch);
    packStills(part, packed);
    await session.run({ [inputName]: feeds(part.length) });
  }
  const seconds = (performance.now() - t0) / 1000;
  await session.release();
  return { rate: stills.length / seconds, stills: stills.length, seconds, rssMiB: 0 };
}

/** fc7 of the same stills from the fp32 and the int8 models: cosine similarity per still. */
async function childCosine(o: {
  atlas: string;
  weights: string;
  stills: number;
}): Promise<Measure & { cosineMean: number; cosineMin: number }> {
  const stills = await loadStills(o.atlas, o.stills);
  const fp32 = await createVgg16Embedder({ weights: o.weights });
  const int8 = await createVgg16Embedder({ weights: o.weights, precision: 'int8' });
  const a = new Float32Array(stills.length * fp32.dim);
  const b = new Float32Array(stills.length * int8.dim);
  await fp32.embed(stills, a);
  await int8.embed(stills, b);
  await fp32.close();
  await int8.close();
  let sum = 0;
  let min = 1;
  const d = fp32.dim;
  for (let i = 0; i < stills.length; i++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let j = i * d; j < (i + 1) * d; j++) {
      ab += a[j] * b[j];
      aa += a[j] * a[j];
      bb += b[j] * b[j];
    }
    const c = ab / Math.sqrt(aa * bb);
    sum += c;
    min = Math.min(min, c);
  }
  return {
    rate: NaN,
    stills: stills.length,
    seconds: NaN,
    rssMiB: 0,
    cosineMean: sum / stills.length,
    cosineMin: min,
  };
}

/** colorFeatures alone over decoded stills. */
async function childBareColor(o: { atlas: string; stills: number }): Promise<Measure> {
  const stills = await loadStills(o.atlas, o.stills);
  const row = new Float32Array(COLOR_DIM);
  for (const s of stills.slice(0, 20)) colorFeatures(s, row);
  const t0 = performance.now();
  for (const s of stills) colorFeatures(s, row);
  const seconds = (performance.now() - t0) / 1000;
  return { rate: stills.length / seconds, stills: stills.length, seconds, rssMiB: 0 };
}

if (process.argv[2] === '--child') {
  type Job =
    | ({ kind: 'pipeline' } & Parameters<typeof childPipeline>[0])
    | ({ kind: 'ort' } & Parameters<typeof childBareOrt>[0])
    | ({ kind: 'color' } & Parameters<typeof childBareColor>[0])
    | ({ kind: 'cosine' } & Parameters<typeof childCosine>[0]);
  const job = JSON.parse(process.argv[3]) as Job;
  const m =
    job.kind === 'pipeline'
      ? await childPipeline(job)
      : job.kind === 'ort'
        ? await childBareOrt(job)
        : job.kind === 'cosine'
          ? await childCosine(job)
          : await childBareColor(job);
  m.rssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify(m));
  process.exit(0);
}

// ---------------------------------------------------------------------------
// Parent: set up, then interleave the measurements round by round.

const rounds = Number(flag('--rounds') ?? 3);
const nVgg = Number(flag('--stills') ?? 200);
const json = process.argv.includes('--json');
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`--rounds must be a positive integer, got ${flag('--rounds')}`);
if (!Number.isInteger(nVgg) || nVgg < 8)
  throw new Error(`--stills must be an integer ≥ 8, got ${flag('--stills')}`);

function say(s: string): void {
  process.stderr.write(s + '\n');
}

function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${argv.join(' ')} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  return r.stdout.trim().split('\n').pop() ?? '';
}

function child(job: Record<string, unknown>): Measure {
  return JSON.parse(
    run(process.execPath, [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--child',
      JSON.stringify(job),
    ]),
  ) as Measure;
}

// The stills: the anchor JPEGs, ingested into an atlas of their own.
const imagesRoot = join(out, 'anchor-img');
if (!existsSync(join(imagesRoot, 'img/small'))) {
  mkdirSync(imagesRoot, { recursive: true });
  say(`generating the anchor images into ${imagesRoot} …`);
  run(python, [join(anchors, 'gen_images.py')], { ...process.env, ANCHOR_OUT: imagesRoot });
}
const colorAtlas = join(out, 'embed-atlas-all');
const vggAtlas = join(out, `embed-atlas-${nVgg}`);
// The first --stills files, copied to a folder of their own, for the VGG-16 atlas.
const smallDir = join(imagesRoot, 'img/small');
const firstDir = join(out, `embed-img-${nVgg}`);
if (!existsSync(firstDir)) {
  mkdirSync(firstDir, { recursive: true });
  for (const f of readdirSync(smallDir)
    .filter((n) => n.endsWith('.jpg'))
    .sort()
    .slice(0, nVgg))
    copyFileSync(join(smallDir, f), join(firstDir, f));
}
for (const [dir, src] of [
  [colorAtlas, smallDir],
  [vggAtlas, firstDir],
] as const) {
  const expected = readdirSync(src).filter((n) => n.endsWith('.jpg')).length;
  if (existsSync(join(dir, 'atlas.db'))) {
    const a = await openAtlas(dir);
    const n = (await a.catalog.stills('ready')).length;
    await a.close();
    if (n === expected) continue;
  }
  rmSync(dir, { recursive: true, force: true });
  const a = await openAtlas(dir, { create: true });
  await ingestStills(a, [src]);
  await a.close();
}

// The weights.
let weights = flag('--weights') ?? process.env.FILMATLAS_WEIGHTS ?? findCachedModel('vgg16');
let weightsNote = 'given';
if (!weights) {
  weights = join(out, 'vgg16-parity.safetensors');
  weightsNote = 'generated parity weights';
  if (!existsSync(weights)) {
    say(`writing parity weights to ${weights} …`);
    writeParityWeights(weights);
  }
}

// Warm-ups: the built graph into the cache, torch's first import.
say('warming up …');
child({ kind: 'pipeline', atlas: vggAtlas, model: 'vgg16', weights, batch: 8 });
child({ kind: 'pipeline', atlas: vggAtlas, model: 'vgg16', weights, batch: 8, precision: 'int8' });

const torchEnv = { ...process.env };
delete torchEnv.OPENBLAS_CORETYPE; // the anchors README: compare against the faster Python figure
const series: Record<string, Measure[]> = {};
const add = (k: string, m: Measure) => (series[k] ??= []).push(m);
for (let r = 0; r < rounds; r++) {
  say(`round ${r + 1}/${rounds}`);
  for (const batch of [1, 8]) {
    add(
      `vgg16 pipeline b${batch}`,
      child({ kind: 'pipeline', atlas: vggAtlas, model: 'vgg16', weights, batch }),
    );
    add(
      `vgg16 bare ORT b${batch}`,
      child({
        kind: 'ort',
        atlas: vggAtlas,
        weights,
        batch,
        stills: batch === 1 ? Math.min(nVgg, 48) : nVgg,
      }),
    );
  }
  add(
    'vgg16 int8 pipeline b8',
    child({ kind: 'pipeline', atlas: vggAtlas, model: 'vgg16', weights, batch: 8, precision: 'int8' }),
  );
  const t = JSON.parse(
    run(
      python,
      [join(anchors, 'torch_vgg16.py'), 'bench', '--rounds', '1', '--b1-iters', '8', '--b8-iters', '2'],
      torchEnv,
    ),
  ) as Record<string, number>;
  add('vgg16 PyTorch b1', {
    rate: t.torch_b1_img_s_median,
    stills: 8,
    seconds: 8 / t.torch_b1_img_s_median,
    rssMiB: NaN,
  });
  add('vgg16 PyTorch b8', {
    rate: t.torch_b8_img_s_median,
    stills: 16,
    seconds: 16 / t.torch_b8_img_s_median,
    rssMiB: NaN,
  });
  add('color pipeline', child({ kind: 'pipeline', atlas: colorAtlas, model: 'color', batch: 64 }));
  add('color bare', child({ kind: 'color', atlas: colorAtlas, stills: 500 }));
}

say('int8 vs fp32 fc7 …');
const cosine = child({ kind: 'cosine', atlas: vggAtlas, weights, stills: Math.min(nVgg, 96) }) as Measure & {
  cosineMean: number;
  cosineMin: number;
};

const rows = Object.entries(series).map(([name, ms]) => ({
  name,
  rate: median(ms.map((m) => m.rate)),
  runs: ms.map((m) => Number(m.rate.toFixed(3))),
  stills: ms[0].stills,
  rssMiB: Math.max(...ms.map((m) => m.rssMiB)),
}));
const rate = (name: string) => rows.find((r) => r.name === name)!.rate;
const ratios = {
  pipelineVsTorchB1: rate('vgg16 pipeline b1') / rate('vgg16 PyTorch b1'),
  pipelineVsTorchB8: rate('vgg16 pipeline b8') / rate('vgg16 PyTorch b8'),
  pipelineVsBestTorch:
    rate('vgg16 pipeline b8') / Math.max(rate('vgg16 PyTorch b1'), rate('vgg16 PyTorch b8')),
  pipelineOfBareB1: rate('vgg16 pipeline b1') / rate('vgg16 bare ORT b1'),
  pipelineOfBareB8: rate('vgg16 pipeline b8') / rate('vgg16 bare ORT b8'),
  colorPipelineOfBare: rate('color pipeline') / rate('color bare'),
  vsOriginal: rate('vgg16 pipeline b8') / 3.25,
  int8VsFp32: rate('vgg16 int8 pipeline b8') / rate('vgg16 pipeline b8'),
  int8VsBestTorch:
    rate('vgg16 int8 pipeline b8') / Math.max(rate('vgg16 PyTorch b1'), rate('vgg16 PyTorch b8')),
  int8CosineMean: cosine.cosineMean,
  int8CosineMin: cosine.cosineMin,
};

if (json) {
  console.log(
    JSON.stringify({ bench: 'embed', cores: cpus().length, rounds, weights: weightsNote, rows, ratios }),
  );
} else {
  console.log(`embedding, ${cpus().length} cores, median of ${rounds} rounds (weights: ${weightsNote})`);
  console.log('what                          stills/s   stills   peak RSS');
  for (const r of rows) {
    const rss = Number.isNaN(r.rssMiB) ? '—' : `${r.rssMiB.toFixed(0)} MiB`;
    console.log(
      `${r.name.padEnd(28)} ${r.rate.toFixed(2).padStart(9)} ${String(r.stills).padStart(8)} ${rss.padStart(10)}`,
    );
  }
  console.log(
    `pipeline vs PyTorch: ${ratios.pipelineVsTorchB1.toFixed(2)}× at batch 1, ${ratios.pipelineVsTorchB8.toFixed(2)}× at batch 8 (${ratios.pipelineVsBestTorch.toFixed(2)}× PyTorch's best)`,
  );
  console.log(
    `pipeline / bare ONNX Runtime: ${(100 * ratios.pipelineOfBareB1).toFixed(1)}% at batch 1, ${(100 * ratios.pipelineOfBareB8).toFixed(1)}% at batch 8`,
  );
  console.log(
    `int8: ${ratios.int8VsFp32.toFixed(2)}× the fp32 pipeline, ${ratios.int8VsBestTorch.toFixed(2)}× PyTorch's best; ` +
      `fc7 cosine to fp32 over ${cosine.stills} stills: mean ${ratios.int8CosineMean.toFixed(5)}, min ${ratios.int8CosineMin.toFixed(5)}`,
  );
  console.log(`colour pipeline / bare colorFeatures: ${(100 * ratios.colorPipelineOfBare).toFixed(1)}%`);
  console.log(`vs the original analysis (3.25 stills/s): ${ratios.vsOriginal.toFixed(2)}×`);
}
