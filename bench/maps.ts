/**
 * `npm run bench:maps` (then bench/grid.ts): PCA figures beside scikit-learn's on
 * the anchors' synthetic fc7-like matrix, and opt-in t-SNE/UMAP timings.
 *
 *   node --import tsx bench/maps.ts [--data FILE.npy] [--sizes 10000,132617] [--method auto|exact|randomized]
 *                                   [--fresh-blocks] [--no-sklearn] [--coretype SkylakeX] [--tsne] [--umap] [--rows N] [--json]
 *
 * Input: `bench/out/synth_fc7.npy`, 132,617 × 4,096 float32 (2.2 GB), made by
 * ../shared/anchors/sklearn_pca.py `gen` (64 latent factors, 400 Zipf-sized
 * "films", ReLU) when numpy is installed, else by the same recipe here (our RNG:
 * same structure, different numbers — sklearn then runs on our file, so the two
 * still see the same data). `--sizes` takes the first N rows.
 *
 * PCA: StandardScaler + PCA(2) (the original analysis) and plain PCA(2), each in
 * its own child process (peak RSS = that process's maxRSS), streaming the rows
 * from the .npy file (in the page cache after a warm-up read) in chunks read
 * straight into one buffer (`readRowsInto`); `--fresh-blocks` serves them as
 * FeatureReader does today, a fresh array per 4 MB block, copied into the chunk:
 * fit + projection of all rows (fitTransformPca, as `filmatlas map`). scikit-learn runs the anchor script
 * (`sklearn_pca.py pca2`, StandardScaler + PCA(2), its default solver —
 * randomized here) and the same without the scaler, with OPENBLAS_CORETYPE=
 * SkylakeX (the faster BLAS kernel, see the anchors README); its figure excludes
 * loading the file into memory, ours includes reading it. Peak RSS of python via
 * getrusage in a wrapper.
 *
 * `--tsne`/`--umap`: standardised PCA-50 front end (randomized) on the first
 * `--rows` rows (default: all), then t-SNE / UMAP with their defaults; each in a
 * child process, times and peak RSS printed. These take minutes at n = 132,617.
 *
 * Figures only: nothing passes or fails on time.
 */
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npyHeader } from '../src/export/npy.js';
import { matmul } from '../src/numeric/matmul.js';
import { fitTransformPca, type RowSourceInto } from '../src/numeric/pca.js';
import type { RowSource } from '../src/types.js';
import { Random } from '../src/numeric/random.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');
const ANCHORS = resolve(ROOT, '../shared/anchors');
const PY = '/usr/bin/python3';

/** The anchors README figure for StandardScaler + PCA(2) at 132,617 × 4,096 (sklearn 1.2.1, randomized). */
const SKLEARN_README = { seconds: '16–23', rssGB: 7.0 };

/** Rows of a C-order float32 .npy file, read block by block (never the whole file). */
export class NpySource implements RowSourceInto {
  readonly rows: number;
  readonly dim: number;
  private readonly fd: number;
  private readonly offset: number;

  constructor(path: string, maxRows?: number) {
    this.fd = openSync(path, 'r');
    const pre = Buffer.alloc(10);
    readSync(this.fd, pre, 0, 10, 0);
    if (pre.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path} is not a .npy file`);
    const major = pre[6];
    const hlen =
      major === 1
        ? pre.readUInt16LE(8)
        : (() => {
            const b = Buffer.alloc(4);
            readSync(this.fd, b, 0, 4, 8);
            return b.readUInt32LE(0);
          })();
    const start = major === 1 ? 10 : 12;
    const h = Buffer.alloc(hlen);
    readSync(this.fd, h, 0, hlen, start);
    const header = h.toString('latin1');
    if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
      throw new Error(`${path}: want a C-order little-endian float32 array, header ${header.trim()}`);
    }
    const shape = /'shape':\s*\((\d+),\s*(\d+)\)/.exec(header);
    if (!shape) throw new Error(`${path}: want a 2-d array, header ${header.trim()}`);
    this.rows = Math.min(Number(shape[1]), maxRows ?? Infinity);
    this.dim = Number(shape[2]);
    this.offset = start + hlen;
  }

  readRows(start: number, count: number): Float32Array {
    const out = new Float32Array(count * this.dim);
    this.readRowsInto(start, count, out);
    return out;
  }

  /** The same rows behind readRows only (a fresh array per block), as a FeatureReader serves them (--fresh-blocks). */
  static fresh(path: string, maxRows?: number): RowSource {
    const s = new NpySource(path, maxRows);
    return { rows: s.rows, dim: s.dim, readRows: (start, count) => s.readRows(start, count) };
  }

  readRowsInto(start: number, count: number, out: Float32Array): void {
    if (start < 0 || count < 0 || start + count > this.rows)
      throw new RangeError(`rows ${start}…${start + count} outside 0…${this.rows}`);
    const buf = Buffer.from(out.buffer, out.byteOffset, count * this.dim * 4);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(this.fd, buf, off, buf.length - off, this.offset + start * this.dim * 4 + off);
      if (n === 0) throw new Error('short .npy file');
      off += n;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** sklearn_pca.py's `gen` recipe with our generator (used only when numpy is missing). */
async function generateHere(path: string, rows: number): Promise<void> {
  const D = 4096,
    K = 64,
    C = 400;
  const rng = new Random(0);
  const W = new Float32Array(K * D).map(() => rng.normal() / Math.sqrt(K));
  const centres = new Float32Array(C * K).map(() => rng.normal() * 1.5);
  const cum = new Float64Array(C);
  let total = 0;
  for (let c = 0; c < C; c++) total += 1 / (c + 1) ** 0.8;
  for (let c = 0, acc = 0; c < C; c++) cum[c] = acc += 1 / (c + 1) ** 0.8 / total;
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, npyHeader([rows, D]));
    const bs = 8192;
    for (let s = 0; s < rows; s += bs) {
      const b = Math.min(bs, rows - s);
      const z = new Float32Array(b * K);
      for (let i = 0; i < b; i++) {
        const r = rng.next();
        let lab = 0;
        while (lab < C - 1 && cum[lab] < r) lab++;
        for (let k = 0; k < K; k++) z[i * K + k] = centres[lab * K + k] + rng.normal();
      }
      const x = await matmul('nn', z, b, K, W, D);
      for (let q = 0; q < x.length; q++) {
        const v = x[q] + 0.5 * rng.normal() - 0.3;
        x[q] = v > 0 ? v : 0;
      }
      writeSync(fd, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}

interface PcaJob {
  kind: 'pca';
  data: string;
  rows: number;
  standardize: boolean;
  method: 'auto' | 'exact' | 'randomized';
  /** Serve blocks through readRows only (fresh arrays), as FeatureReader does. */
  fresh: boolean;
}
interface ReduceJob {
  kind: 'tsne' | 'umap';
  data: string;
  rows: number;
}
type Job = PcaJob | ReduceJob;

async function child(job: Job): Promise<Record<string, unknown>> {
  const src =
    job.kind === 'pca' && job.fresh ? NpySource.fresh(job.data, job.rows) : new NpySource(job.data, job.rows);
  const rss = (): number => process.resourceUsage().maxRSS / 1024;
  // CPU seconds (user + system) of the whole process: a figure that a loaded machine disturbs less than wall time.
  const cpu = (): number => {
    const u = process.resourceUsage();
    return (u.userCPUTime + u.systemCPUTime) / 1e6;
  };
  if (job.kind === 'pca') {
    const t0 = performance.now();
    const { model, projection } = await fitTransformPca(src, {
      components: 2,
      standardize: job.standardize,
      method: job.method,
    });
    const t1 = performance.now();
    if (projection.length !== 2 * src.rows) throw new Error('bad projection');
    return {
      seconds: (t1 - t0) / 1000,
      method: model.method,
      ratios: Array.from(model.explainedVarianceRatio),
      rssMiB: rss(),
      cpuSeconds: cpu(),
    };
  }
  const t0 = performance.now();
  const { model, projection } = await fitTransformPca(src, { components: 50, standardize: true });
  const x = { data: projection, rows: src.rows, cols: 50 };
  const t1 = performance.now();
  const xy =
    job.kind === 'tsne'
      ? await (await import('../src/layout/tsne.js')).tsne(x, { seed: 0 })
      : await (await import('../src/layout/umap.js')).umap(x, { seed: 0 });
  const t2 = performance.now();
  if (xy.length !== 2 * src.rows || !xy.every(Number.isFinite)) throw new Error(`${job.kind}: bad output`);
  return {
    pcaSeconds: (t1 - t0) / 1000,
    seconds: (t2 - t1) / 1000,
    pcaMethod: model.method,
    rssMiB: rss(),
    cpuSeconds: cpu(),
  };
}

function runChild(job: Job): Promise<Record<string, unknown>> {
  return new Promise((resolveRun, reject) => {
    const c = fork(SELF, ['--child', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => {
      if (code !== 0) reject(new Error(`child ${JSON.stringify(job)} exited ${code}`));
      else resolveRun(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

function pythonHas(module: string): boolean {
  return spawnSync(PY, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs a python snippet (or the anchor script, through runpy) and returns its JSON
 * result line plus the process's peak RSS.
 */
function python(code: string, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const wrapped = `${code}\nimport resource, json as _j\n_r = resource.getrusage(resource.RUSAGE_SELF)\nprint(_j.dumps({"maxrss_kb": _r.ru_maxrss, "cpu_s": _r.ru_utime + _r.ru_stime}))`;
  const out = execFileSync(PY, ['-c', wrapped], { encoding: 'utf8', env, maxBuffer: 16 << 20 });
  const lines = out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const rss = lines.pop()!;
  return { ...lines.pop(), rssMiB: (rss.maxrss_kb as number) / 1024, cpuSeconds: rss.cpu_s as number };
}

function sklearnPca(
  data: string,
  rows: number,
  standardize: boolean,
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  if (standardize) {
    const argv = JSON.stringify(['sklearn_pca.py', 'pca2', '--rows', String(rows), '--data', data]);
    return python(
      `import runpy, sys\nsys.argv = ${argv}\nrunpy.run_path(${JSON.stringify(join(ANCHORS, 'sklearn_pca.py'))}, run_name='__main__')`,
      env,
    );
  }
  // the same, without StandardScaler
  return python(
    [
      'import json, time, numpy as np',
      'from sklearn.decomposition import PCA',
      `X = np.array(np.load(${JSON.stringify(data)}, mmap_mode='r')[:${rows}], copy=True)`,
      't = time.perf_counter()',
      'pca = PCA(n_components=2)',
      'Y = pca.fit_transform(X)',
      'print(json.dumps({"total_s": time.perf_counter() - t, "pca_solver_used": getattr(pca, "_fit_svd_solver", pca.svd_solver), "explained_variance_ratio_head": [float(v) for v in pca.explained_variance_ratio_[:2]]}))',
    ].join('\n'),
    env,
  );
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function warmRead(src: NpySource, rows: number): number {
  const t = performance.now();
  const block = Math.max(1, Math.floor((4 << 20) / (src.dim * 4)));
  const buf = new Float32Array(block * src.dim);
  for (let s = 0; s < rows; s += block) {
    const c = Math.min(block, rows - s);
    src.readRowsInto(s, c, buf.subarray(0, c * src.dim));
  }
  return (performance.now() - t) / 1000;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    process.stdout.write(JSON.stringify(await child(JSON.parse(process.argv[3]) as Job)) + '\n');
    return;
  }
  const json = process.argv.includes('--json');
  const say = (s: string): void => {
    if (!json) console.log(s);
  };
  const results: Record<string, unknown>[] = [];
  const data = resolve(arg('--data') ?? join(ROOT, 'bench/out/synth_fc7.npy'));
  const sizes = (arg('--sizes') ?? '10000,132617').split(',').map(Number);
  const method = (arg('--method') ?? 'auto') as PcaJob['method'];
  const fresh = process.argv.includes('--fresh-blocks');
  const hasNumpy = pythonHas('numpy');
  const hasSklearn = !process.argv.includes('--no-sklearn') && pythonHas('sklearn');

  if (!existsSync(data)) {
    mkdirSync(dirname(data), { recursive: true });
    const t = performance.now();
    const rows = Math.max(...sizes);
    if (hasNumpy) {
      execFileSync(PY, [join(ANCHORS, 'sklearn_pca.py'), 'gen', '--rows', String(rows), '--data', data], {
        stdio: 'inherit',
      });
      say(
        `generated ${data} with sklearn_pca.py gen (${rows} rows) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    } else {
      await generateHere(data, rows);
      say(
        `generated ${data} (sklearn_pca.py's recipe, our RNG; ${rows} rows) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    }
  }
  const whole = new NpySource(data);
  const available = whole.rows;
  say(
    `input ${data}: ${whole.rows} × ${whole.dim} float32 (${((whole.rows * whole.dim * 4) / 2 ** 30).toFixed(2)} GiB)`,
  );
  const needed = Math.min(available, Math.max(...sizes, Number(arg('--rows') ?? 0)));
  say(`warm-up read of ${needed} rows (into the page cache): ${warmRead(whole, needed).toFixed(1)} s`);
  whole.close();
  const pyEnv = {
    ...process.env,
    OPENBLAS_CORETYPE: arg('--coretype') ?? 'SkylakeX',
    ANCHOR_OUT: dirname(data),
  };

  for (const rows of sizes) {
    const n = Math.min(rows, available);
    say(`\nPCA(2), n = ${n}, d = 4096`);
    say('  what                                   seconds  CPU s   peak RSS   explained variance ratio');
    for (const standardize of [true, false]) {
      const label = standardize ? 'StandardScaler + PCA(2)' : 'PCA(2)';
      const ours = await runChild({ kind: 'pca', data, rows: n, standardize, method, fresh });
      results.push({ bench: 'pca', who: 'filmatlas', n, standardize, ...ours });
      const r = ours.ratios as number[];
      say(
        `  filmatlas ${label.padEnd(24)} ${(ours.seconds as number).toFixed(2).padStart(8)} ${(ours.cpuSeconds as number).toFixed(0).padStart(6)} ${(ours.rssMiB as number).toFixed(0).padStart(6)} MiB   ${r.map((v) => v.toFixed(4)).join(', ')}` +
          `  (${ours.method}, fit + projection of all rows${fresh ? ', fresh blocks' : ''})`,
      );
      if (hasSklearn) {
        const sk = sklearnPca(data, n, standardize, pyEnv);
        results.push({ bench: 'pca', who: 'sklearn', n, standardize, ...sk });
        const seconds = sk.total_s as number;
        say(
          `  sklearn   ${label.padEnd(24)} ${seconds.toFixed(2).padStart(8)} ${(sk.cpuSeconds as number).toFixed(0).padStart(6)} ${(sk.rssMiB as number).toFixed(0).padStart(6)} MiB   ${(
            sk.explained_variance_ratio_head as number[]
          )
            .slice(0, 2)
            .map((v) => v.toFixed(4))
            .join(', ')}` +
            `  (${String(sk.pca_solver_used)}, OPENBLAS_CORETYPE=${pyEnv.OPENBLAS_CORETYPE}${sk.load_s !== undefined ? `; + ${(sk.load_s as number).toFixed(1)} s loading, not counted` : ''})`,
        );
        say(
          `  ratio sklearn/filmatlas: ${(seconds / (ours.seconds as number)).toFixed(2)}× time` +
            (sk.load_s !== undefined
              ? ` (${((seconds + (sk.load_s as number)) / (ours.seconds as number)).toFixed(2)}× with sklearn's loading, as ours includes its reading)`
              : '') +
            `, ${((sk.rssMiB as number) / (ours.rssMiB as number)).toFixed(1)}× memory; CPU s: sklearn's include loading the file`,
        );
      } else if (standardize && n === 132617) {
        say(
          `  sklearn   ${label.padEnd(24)} ${SKLEARN_README.seconds.padStart(8)}  ${SKLEARN_README.rssGB.toFixed(1)} GB   (anchors README figure; sklearn not run here)`,
        );
      }
    }
  }

  const reduceRows = Number(arg('--rows') ?? sizes[sizes.length - 1]);
  for (const kind of ['tsne', 'umap'] as const) {
    if (!process.argv.includes(`--${kind}`)) continue;
    say(`\n${kind} at n = ${reduceRows} (standardised PCA-50 front end)`);
    const r = await runChild({ kind, data, rows: reduceRows });
    results.push({ bench: kind, n: reduceRows, ...r });
    say(
      `  PCA-50 ${(r.pcaSeconds as number).toFixed(1)} s (${String(r.pcaMethod)}), ${kind} ${(r.seconds as number).toFixed(1)} s, peak RSS ${(r.rssMiB as number).toFixed(0)} MiB`,
    );
  }
  if (json) for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
}

// Run when executed (not when NpySource is imported by another script).
if (process.argv[1] && resolve(process.argv[1]) === SELF) await main();
