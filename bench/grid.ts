/**
 * `npm run bench:maps` (after bench/maps.ts): grid assignment and deep-zoom
 * rendering figures.
 *
 *   node --import tsx bench/grid.ts [--sizes 10000,132617] [--methods transport,neighbours,split,rasterfairy,rasterfairy@grid]
 *                                   [--xy FILE.npy ...] [--no-deepzoom] [--json]
 *
 * Input: seeded 2-D points shaped like the anchors' (a PCA of fc7-like features):
 * the generator of ../shared/anchors/sklearn_pca.py (64 latent factors, 400
 * Zipf-sized "films", mixed into 128 non-negative (ReLU) features instead of
 * 4,096), standardised, then PCA to 2-D. `--xy` adds real 2-D inputs (.npy
 * float32/float64 n×2, e.g. `sklearn_pca.py pca2 --save xy.npy`).
 *
 * Each method runs in its own child process (peak RSS = that process's maxRSS),
 * after one warm-up call on 2,000 points so that the figure is the algorithm,
 * not V8's first compilation; the time is of `assignGrid` alone. Quality is
 * gridQuality (the port of grid_quality.py: recall@10 and mean displacement,
 * per-axis unit scaling). RasterFairy's own figures are quoted from
 * ../shared/anchors/README.md (python RasterFairy is not installed here); the
 * `rasterfairy` row is our port of it run on the same input (raw units), and
 * `rasterfairy@grid` the port fed the input scaled to grid units.
 *
 * Deep zoom: 132,617 cells at 224×126 (60,256 × 62,118 px) from 2,000 distinct
 * synthetic 224×126 PNG stills reused across cells (each cell still decoded
 * from PNG, as from an atlas), tiles written to a temp dir and removed after.
 * Figures only: nothing passes or fails on time.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { assignGrid, chooseShape } from '../src/layout/grid.js';
import { gridQuality } from '../src/layout/quality.js';
import { Random } from '../src/numeric/random.js';
import { gridPicture, type CellImages } from '../src/render/cells.js';
import { renderDeepZoom } from '../src/render/deepzoom.js';

const SELF = fileURLToPath(import.meta.url);

/** README figures (../shared/anchors/README.md), measured on this kind of machine. */
const RASTERFAIRY_README: Record<
  number,
  { seconds: number; recall: number; displacement: number; rssMiB?: number }
> = {
  10000: { seconds: 0.4, recall: 0.559, displacement: 0.273 },
  132617: { seconds: 4.5, recall: 0.567, displacement: 0.273, rssMiB: 144 },
};
const NAIVE_README: Record<number, number> = { 10000: 0.31, 132617: 0.33 };

/** 2-D points like a PCA of fc7 features (see the header). */
export function anchorLikePoints(n: number, seed = 0): Float32Array {
  const K = 64,
    D = 128,
    C = 400;
  const rng = new Random(seed);
  const W = new Float32Array(K * D).map(() => rng.normal() / Math.sqrt(K));
  const centres = new Float32Array(C * K).map(() => rng.normal() * 1.5);
  const p = Float64Array.from({ length: C }, (_, k) => 1 / (k + 1) ** 0.8);
  const total = p.reduce((a, b) => a + b, 0);
  const cum = new Float64Array(C);
  p.reduce((acc, v, k) => (cum[k] = acc + v / total), 0);
  const X = new Float32Array(n * D);
  const z = new Float32Array(K);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    let lab = 0;
    while (lab < C - 1 && cum[lab] < r) lab++;
    for (let k = 0; k < K; k++) z[k] = centres[lab * K + k] + rng.normal();
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += z[k] * W[k * D + d];
      const v = s + 0.5 * rng.normal() - 0.3;
      X[i * D + d] = v > 0 ? v : 0;
    }
  }
  // StandardScaler
  for (let d = 0; d < D; d++) {
    let s = 0,
      s2 = 0;
    for (let i = 0; i < n; i++) s += X[i * D + d];
    const mean = s / n;
    for (let i = 0; i < n; i++) s2 += (X[i * D + d] - mean) ** 2;
    const sd = Math.sqrt(s2 / n) || 1;
    for (let i = 0; i < n; i++) X[i * D + d] = (X[i * D + d] - mean) / sd;
  }
  // covariance (D×D) and its top two eigenvectors by power iteration with deflation
  const cov = new Float64Array(D * D);
  const row = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < D; d++) row[d] = X[i * D + d];
    for (let a = 0; a < D; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < D; b++) cov[a * D + b] += ra * row[b];
    }
  }
  for (let a = 0; a < D; a++) for (let b = 0; b < a; b++) cov[a * D + b] = cov[b * D + a];
  const vecs: Float64Array[] = [];
  for (let c = 0; c < 2; c++) {
    let v = Float64Array.from({ length: D }, () => rng.normal());
    for (let it = 0; it < 300; it++) {
      const w = new Float64Array(D);
      for (let a = 0; a < D; a++) {
        let s = 0;
        for (let b = 0; b < D; b++) s += cov[a * D + b] * v[b];
        w[a] = s;
      }
      for (const u of vecs) {
        let dot = 0;
        for (let a = 0; a < D; a++) dot += w[a] * u[a];
        for (let a = 0; a < D; a++) w[a] -= dot * u[a];
      }
      const norm = Math.hypot(...w);
      v = w.map((x) => x / norm);
    }
    vecs.push(v);
  }
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += X[i * D + d] * vecs[c][d];
      xy[2 * i + c] = s;
    }
  }
  return xy;
}

function readNpy2(path: string): Float32Array {
  const b = readFileSync(path);
  const hl = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + hl).toString('latin1');
  const descr = /'descr': '([^']+)'/.exec(header)?.[1];
  const body = b.subarray(10 + hl);
  const ab = body.buffer.slice(body.byteOffset, body.byteOffset + body.length);
  if (descr === '<f4') return new Float32Array(ab);
  if (descr === '<f8') return Float32Array.from(new Float64Array(ab));
  throw new Error(`${path}: expected float32/float64 .npy, got ${descr}`);
}

interface GridJob {
  kind: 'grid';
  input: string;
  method: string;
}
interface DeepZoomJob {
  kind: 'deepzoom';
  cells: number;
  out: string;
}

async function child(job: GridJob | DeepZoomJob): Promise<Record<string, unknown>> {
  if (job.kind === 'grid') {
    const b = readFileSync(job.input);
    const xy = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    // 'rasterfairy@grid': RasterFairy fed its input scaled to grid units (its integer
    // truncation then bins by cell), the likelier way it was run than on raw PCA units.
    const [method, variant] = job.method.split('@');
    const input = variant === 'grid' ? toGridUnits(xy) : xy;
    assignGrid(anchorLikeWarmup(), { method }); // JIT warm-up
    const r = assignGrid(input, { method });
    const q = gridQuality(xy, r.xy);
    return {
      seconds: r.seconds,
      recall: q.recall,
      displacement: q.meanDisplacement,
      cols: r.shape.cols,
      rows: r.shape.rows,
      uniqueCells: q.uniqueCells,
      rssMiB: process.resourceUsage().maxRSS / 1024,
    };
  }
  // deep zoom from 2,000 distinct synthetic stills
  const distinct = 2000;
  const rng = new Random(5);
  const stills: Buffer[] = [];
  for (let s = 0; s < distinct; s++) {
    const px = new Uint8Array(224 * 126 * 3);
    const base = [rng.int(256), rng.int(256), rng.int(256)];
    for (let y = 0; y < 126; y++) {
      for (let x = 0; x < 224; x++) {
        const o = (y * 224 + x) * 3;
        px[o] = (base[0] + x) & 255;
        px[o + 1] = (base[1] + y * 2) & 255;
        px[o + 2] = (base[2] + ((x >> 4) ^ (y >> 4)) * 9) & 255;
      }
    }
    stills.push(
      await sharp(px, { raw: { width: 224, height: 126, channels: 3 } })
        .png()
        .toBuffer(),
    );
  }
  const shape = chooseShape(job.cells);
  const xy = new Int32Array(2 * job.cells);
  for (let i = 0; i < job.cells; i++) {
    xy[2 * i] = i % shape.cols;
    xy[2 * i + 1] = Math.floor(i / shape.cols);
  }
  const grid = gridPicture(
    shape.cols,
    shape.rows,
    xy,
    Uint32Array.from({ length: job.cells }, (_, i) => i),
  );
  let decoded = 0;
  const images: CellImages = {
    missing: 0,
    async get(id, w, h) {
      decoded++;
      const { data } = await sharp(stills[id % distinct])
        .resize(w, h, { fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return new Uint8Array(data.buffer, data.byteOffset, data.length);
    },
  };
  const r = await renderDeepZoom(grid, images, join(job.out, 'bench'));
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else bytes += statSync(join(d, e.name)).size;
    }
  };
  walk(r.tilesDir);
  return {
    ...r,
    decoded,
    bytes,
    rssMiB: process.resourceUsage().maxRSS / 1024,
    cols: shape.cols,
    rows: shape.rows,
  };
}

function toGridUnits(xy: Float32Array): Float32Array {
  const n = xy.length / 2;
  const { cols, rows } = chooseShape(n);
  const out = new Float32Array(xy.length);
  for (const [axis, size] of [
    [0, cols],
    [1, rows],
  ] as const) {
    let lo = Infinity,
      hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, xy[2 * i + axis]);
      hi = Math.max(hi, xy[2 * i + axis]);
    }
    for (let i = 0; i < n; i++) out[2 * i + axis] = ((xy[2 * i + axis] - lo) / (hi - lo || 1)) * size;
  }
  return out;
}

let warm: Float32Array | null = null;
function anchorLikeWarmup(): Float32Array {
  warm ??= anchorLikePoints(2000, 99);
  return warm;
}

function runChild(job: GridJob | DeepZoomJob): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const c = fork(SELF, ['--child', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => {
      if (code !== 0) reject(new Error(`child ${JSON.stringify(job)} exited ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const r = await child(JSON.parse(process.argv[3]) as GridJob | DeepZoomJob);
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const json = process.argv.includes('--json');
  const sizes = (arg('--sizes') ?? '10000,132617').split(',').map(Number);
  const methods = (arg('--methods') ?? 'transport,neighbours,split,rasterfairy,rasterfairy@grid').split(',');
  const tmp = mkdtempSync(join(tmpdir(), 'filmatlas-bench-grid-'));
  const say = (s: string): void => {
    if (!json) console.log(s);
  };
  const results: Record<string, unknown>[] = [];
  try {
    const inputs: { label: string; n: number; file: string }[] = [];
    for (const n of sizes) {
      const t = performance.now();
      const xy = anchorLikePoints(n, 0);
      const file = join(tmp, `synthetic-${n}.f32`);
      writeFileSync(file, xy);
      say(`generated ${n} anchor-like 2-D points in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      inputs.push({ label: `synthetic n=${n}`, n, file });
    }
    for (let k = process.argv.indexOf('--xy'); k >= 0; k = process.argv.indexOf('--xy', k + 1)) {
      const xy = readNpy2(process.argv[k + 1]);
      const file = join(tmp, `xy-${k}.f32`);
      writeFileSync(file, xy);
      inputs.push({ label: process.argv[k + 1], n: xy.length / 2, file });
    }
    for (const input of inputs) {
      say(`\n${input.label}`);
      say(`  method        grid      seconds  recall@10  displacement  peak RSS`);
      for (const method of methods) {
        const r = await runChild({ kind: 'grid', input: input.file, method });
        results.push({ bench: 'grid', input: input.label, n: input.n, method, ...r });
        say(
          `  ${method.padEnd(12)}  ${`${r.cols}x${r.rows}`.padEnd(8)}  ${(r.seconds as number).toFixed(2).padStart(7)}  ` +
            `${(r.recall as number).toFixed(3).padStart(9)}  ${(r.displacement as number).toFixed(4).padStart(12)}  ${(r.rssMiB as number).toFixed(0).padStart(5)} MiB`,
        );
      }
      const rf = RASTERFAIRY_README[input.n];
      if (rf) {
        say(
          `  RasterFairy (python, anchors README, their input)  ${rf.seconds.toFixed(2)} s  recall ${rf.recall}  displacement ${rf.displacement}` +
            (rf.rssMiB ? `  ${rf.rssMiB} MiB` : '') +
            `; naive sort recall ${NAIVE_README[input.n]}`,
        );
      }
    }
    if (!process.argv.includes('--no-deepzoom')) {
      const cells = Number(arg('--deepzoom-cells') ?? 132617);
      say(`\ndeep zoom: ${cells} cells at 224x126 from 2,000 distinct synthetic PNG stills…`);
      const r = await runChild({ kind: 'deepzoom', cells, out: tmp });
      results.push({ bench: 'deepzoom', cells, ...r });
      say(
        `  ${r.cols}x${r.rows} cells → ${r.width}×${r.height} px, ${r.levels} levels, ${r.tiles} tiles ` +
          `(${((r.bytes as number) / 2 ** 20).toFixed(0)} MiB) in ${(r.seconds as number).toFixed(1)} s; peak RSS ${(r.rssMiB as number).toFixed(0)} MiB`,
      );
    }
    if (json) for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
