/**
 * t-SNE, UMAP and their exact k-NN at the collection's full size.
 *
 *   nice -n 10 node --import tsx bench/reduce-scale.ts [--n 132617] [--stages knn,tsne,umap] [--json]
 *
 * Input: a seeded n × 50 matrix shaped like a PCA-50 front end of CNN features:
 * 300 Zipf-sized Gaussian clusters ("films") whose centres and spreads fall off
 * like a PCA spectrum (column j's variance ∝ 1/(j+1)). Each stage runs in its own
 * child process, so its peak RSS is that process's maxRSS (the 26 MB matrix
 * included). knn is the graph t-SNE needs (k = 90, excluding self); it is computed
 * once and handed to t-SNE and to UMAP (its first 14: exact lists are
 * prefix-consistent), whose figures are the optimisation alone — a user's
 * `map --reduce tsne|umap` takes knn + that (the k-NN's time hardly depends on k). Quality: on
 * 2,000 sampled points, the share of each one's 10 nearest 2-D neighbours (among
 * all n) that come from its own cluster, and the share of its 10 nearest 50-D
 * neighbours that are among them (recall@10). Figures only: nothing passes or fails on
 * time.
 */
import { fork } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsne } from '../src/layout/tsne.js';
import { umap } from '../src/layout/umap.js';
import { knn, type KnnResult } from '../src/numeric/knn.js';
import { Random } from '../src/numeric/random.js';
import { matrixSource, type Matrix } from '../src/types.js';

const SELF = fileURLToPath(import.meta.url);
const DIM = 50;
const CLUSTERS = 300;
const K = 90;
const KNN_FILE = join(tmpdir(), `filmatlas-reduce-scale-knn-${process.ppid}-${process.pid}`);

function saveKnn(r: KnnResult, file: string): void {
  writeFileSync(file + '.i32', r.indices);
  writeFileSync(file + '.f32', r.distances);
}

function loadKnn(file: string, n: number): KnnResult {
  const i = readFileSync(file + '.i32');
  const d = readFileSync(file + '.f32');
  return {
    n,
    k: K,
    indices: new Int32Array(i.buffer, i.byteOffset, n * K),
    distances: new Float32Array(d.buffer, d.byteOffset, n * K),
  };
}

export function clusteredMatrix(n: number, seed = 0): { x: Matrix; labels: Int32Array } {
  const rng = new Random(seed);
  const scale = Float64Array.from({ length: DIM }, (_, j) => 1 / Math.sqrt(j + 1));
  const centres = new Float64Array(CLUSTERS * DIM).map((_, i) => rng.normal() * 4 * scale[i % DIM]);
  const weights = Array.from({ length: CLUSTERS }, (_, c) => 1 / (c + 1) ** 0.8);
  const ids = Array.from({ length: CLUSTERS }, (_, c) => c);
  const data = new Float32Array(n * DIM);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.weighted(ids, weights);
    labels[i] = c;
    for (let j = 0; j < DIM; j++) data[i * DIM + j] = centres[c * DIM + j] + rng.normal() * scale[j];
  }
  return { x: { data, rows: n, cols: DIM }, labels };
}

/**
 * Neighbourhood preservation: for 2,000 sampled points, the share of their 10
 * nearest neighbours in the 50-D input (exact, from the k-NN) that are among their
 * 10 nearest in 2-D.
 */
function recall10(y: Float32Array, nn: KnnResult, sample = 2000, k = 10): number {
  const n = nn.n;
  const rng = new Random('recall');
  let total = 0;
  const bestD = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let s = 0; s < sample; s++) {
    const i = rng.int(n);
    bestD.fill(Infinity);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2;
      if (d >= bestD[k - 1]) continue;
      let p = k - 1;
      while (p > 0 && bestD[p - 1] > d) {
        bestD[p] = bestD[p - 1];
        bestI[p] = bestI[p - 1];
        p--;
      }
      bestD[p] = d;
      bestI[p] = j;
    }
    const high = new Set(nn.indices.subarray(i * nn.k, i * nn.k + k));
    let hit = 0;
    for (let t = 0; t < k; t++) if (high.has(bestI[t])) hit++;
    total += hit / k;
  }
  return total / sample;
}

function clusterAgreement(y: Float32Array, labels: Int32Array, sample = 2000, k = 10): number {
  const n = labels.length;
  const rng = new Random('agreement');
  let total = 0;
  const bestD = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let s = 0; s < sample; s++) {
    const i = rng.int(n);
    bestD.fill(Infinity);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2;
      if (d >= bestD[k - 1]) continue;
      let p = k - 1;
      while (p > 0 && bestD[p - 1] > d) {
        bestD[p] = bestD[p - 1];
        bestI[p] = bestI[p - 1];
        p--;
      }
      bestD[p] = d;
      bestI[p] = j;
    }
    let same = 0;
    for (let t = 0; t < k; t++) if (labels[bestI[t]] === labels[i]) same++;
    total += same / k;
  }
  return total / sample;
}

async function child(stage: string, n: number, knnFile: string): Promise<Record<string, unknown>> {
  const { x, labels } = clusteredMatrix(n);
  let lastLog = 0;
  const onProgress = (e: { stage: string; done: number; total: number; note?: string }): void => {
    const now = performance.now();
    if (now - lastLog > 30000 || (e.note && e.done === e.total)) {
      lastLog = now;
      process.stderr.write(
        `  [${stage}] ${e.stage} ${e.done}/${e.total}${e.note ? ` ${e.note}` : ''} (${((now - t0) / 1000).toFixed(0)} s)\n`,
      );
    }
  };
  const t0 = performance.now();
  const out: Record<string, unknown> = { stage, n, dim: DIM };
  if (stage === 'knn') {
    const r = await knn(matrixSource(x), { k: K, excludeSelf: true, onProgress });
    out.seconds = (performance.now() - t0) / 1000;
    out.k = r.k;
    saveKnn(r, knnFile);
  } else if (stage === 'tsne') {
    const nn = loadKnn(knnFile, n);
    const y = await tsne(x, { seed: 0, onProgress, knn: nn });
    out.seconds = (performance.now() - t0) / 1000;
    out.agreement10 = clusterAgreement(y, labels);
    out.recall10 = recall10(y, nn);
  } else if (stage === 'umap') {
    const nn = loadKnn(knnFile, n);
    const y = await umap(x, { seed: 0, onProgress, knn: nn });
    out.seconds = (performance.now() - t0) / 1000;
    out.agreement10 = clusterAgreement(y, labels);
    out.recall10 = recall10(y, nn);
  } else throw new Error(`unknown stage ${stage}`);
  out.seconds ??= (performance.now() - t0) / 1000;
  out.rssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const n = Number(flag('--n') ?? 132617);
  // t-SNE and UMAP need the knn stage before them; `--stages knn` times it alone.
  const stages = (flag('--stages') ?? 'knn,tsne,umap').split(',');
  const json = args.includes('--json');
  const results: Record<string, unknown>[] = [];
  console.log(`reduce-scale: n = ${n}, ${DIM}-D, ${CLUSTERS} clusters; stages ${stages.join(', ')}`);
  for (const stage of stages) {
    const r = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const c = fork(SELF, ['--child', stage, String(n), KNN_FILE], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      let got: Record<string, unknown> | undefined;
      c.on('message', (m) => (got = m as Record<string, unknown>));
      c.on('exit', (code) =>
        code === 0 && got ? resolve(got) : reject(new Error(`${stage} child exited ${code}`)),
      );
    });
    results.push(r);
    const seconds = Number(r.seconds);
    console.log(
      `${stage.padEnd(5)} ${seconds.toFixed(1).padStart(8)} s  peak RSS ${String(r.rssMiB).padStart(6)} MiB` +
        (r.agreement10 === undefined
          ? ''
          : `  cluster agreement@10 ${Number(r.agreement10).toFixed(3)}  50-D recall@10 ${Number(r.recall10).toFixed(3)}`),
    );
  }
  rmSync(KNN_FILE + '.i32', { force: true });
  rmSync(KNN_FILE + '.f32', { force: true });
  if (json) console.log(JSON.stringify(results));
}

if (process.argv[2] === '--child') {
  const r = await child(process.argv[3], Number(process.argv[4]), process.argv[5]);
  process.send?.(r);
} else await main();
