/**
 * `npm run bench:standardise`: stills/s for a whole `filmatlas ingest` (scan, sha256,
 * copy originals into the atlas, standardise to 224×126 PNG, catalogue) over the
 * anchor set of 500 JPEGs of 500×213 and 100 of 1920×800, next to the original
 * analysis's PIL code on the same files in the same run, and the ratio.
 *
 *   npm run bench:standardise [-- --rounds 3] [--json] [--no-sharp-only]
 *
 * Each round also runs the ingest with the native JPEG path turned off
 * (FILMATLAS_NATIVE=0: sharp decodes everything), unless --no-sharp-only.
 *
 * The images come from ../shared/anchors/gen_images.py (Debian python3-pil/numpy),
 * generated once into bench/out/anchor-img. Figures only: nothing passes or fails on time.
 *
 * Every atlas and PIL output folder is kept until the end of the run, then removed.
 * Deleting one round's 1,000 files just before the next round writes its own makes each
 * new file cost ~10× more on ext4 without a journal (it skips recently freed inodes:
 * ~300 µs instead of ~30 µs per 30 KB file here), a cost of the benchmark's clean-up
 * that no real ingest pays, and that falls on both sides.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openAtlas } from '../src/atlas/atlas.js';
import { nativeJpegAvailable, nativeJpegStatus } from '../src/imaging/native-jpeg.js';
import { ingestStills } from '../src/sources/ingest.js';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 0) || 3;
const json = args.includes('--json');
const sharpOnlyToo = !args.includes('--no-sharp-only');
const python = '/usr/bin/python3';
const anchors = resolve(import.meta.dirname, '../../shared/anchors');
const imagesRoot = resolve(import.meta.dirname, 'out/anchor-img');

function pythonJson(
  script: string,
  argv: string[],
  env: Record<string, string> = {},
): Record<string, unknown> {
  const r = spawnSync(python, [join(anchors, script), ...argv], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (r.status !== 0)
    throw new Error(`${script} failed (exit ${r.status}): ${r.stderr.trim().split('\n').pop()}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return last.startsWith('{') ? (JSON.parse(last) as Record<string, unknown>) : {};
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

if (!existsSync(join(imagesRoot, 'img/large'))) {
  mkdirSync(imagesRoot, { recursive: true });
  process.stderr.write(`generating the anchor images into ${imagesRoot} …\n`);
  pythonJson('gen_images.py', [], { ANCHOR_OUT: imagesRoot });
}

/** Output folders of this run, removed when it ends (see the note above on why not sooner). */
const scratch = mkdtempSync(join(tmpdir(), 'bench-std-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
let outputs = 0;

async function ingestRate(
  dir: string,
  native = true,
): Promise<{ rate: number; ready: number; rejected: number }> {
  const atlas = await openAtlas(join(scratch, `atlas-${outputs++}`), { create: true });
  const before = process.env.FILMATLAS_NATIVE;
  if (!native) process.env.FILMATLAS_NATIVE = '0';
  try {
    const t0 = performance.now();
    const r = await ingestStills(atlas, [dir]);
    const seconds = (performance.now() - t0) / 1000;
    if (r.ready !== r.found)
      throw new Error(`${dir}: ${r.ready}/${r.found} standardised, ${r.rejected} rejected`);
    return { rate: r.found / seconds, ready: r.ready, rejected: r.rejected };
  } finally {
    if (before === undefined) delete process.env.FILMATLAS_NATIVE;
    else process.env.FILMATLAS_NATIVE = before;
    await atlas.close();
  }
}

function pilRate(dir: string): number {
  return pythonJson('pil_standardise.py', [dir, join(scratch, `pil-${outputs++}`)]).img_s as number;
}

const nativeJpeg = nativeJpegAvailable();
const rows: {
  set: string;
  files: number;
  filmatlas: number;
  sharpOnly?: number;
  pil: number;
  ratio: number;
}[] = [];
for (const set of ['small', 'large']) {
  const dir = join(imagesRoot, 'img', set);
  const files = readdirSync(dir).filter((f) => f.endsWith('.jpg')).length;
  await ingestRate(dir); // warm-up: page cache, sharp's first-use costs
  const ours: number[] = [];
  const sharpOnly: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ours.push((await ingestRate(dir)).rate);
    if (sharpOnlyToo) sharpOnly.push((await ingestRate(dir, false)).rate);
    theirs.push(pilRate(dir));
  }
  const row = {
    set,
    files,
    filmatlas: median(ours),
    ...(sharpOnlyToo ? { sharpOnly: median(sharpOnly) } : {}),
    pil: median(theirs),
    ratio: median(ours) / median(theirs),
  };
  rows.push(row);
}
// The whole anchor set (600 files) as one collection: total time on each side.
const totalFiles = rows.reduce((s, r) => s + r.files, 0);
const overAll = (rate: (r: (typeof rows)[number]) => number): number =>
  totalFiles / rows.reduce((s, r) => s + r.files / rate(r), 0);
const oursAll = overAll((r) => r.filmatlas);
const sharpOnlyAll = sharpOnlyToo ? overAll((r) => r.sharpOnly!) : undefined;
const pilAll = overAll((r) => r.pil);

if (json) {
  console.log(
    JSON.stringify({
      bench: 'standardise',
      cores: cpus().length,
      rounds,
      nativeJpeg,
      rows,
      all: {
        files: totalFiles,
        filmatlas: oursAll,
        sharpOnly: sharpOnlyAll,
        pil: pilAll,
        ratio: oursAll / pilAll,
      },
    }),
  );
} else {
  console.log(`ingest + standardise to 224×126 PNG, ${cpus().length} cores, median of ${rounds} rounds`);
  console.log(
    `JPEG decoder: ${nativeJpeg ? 'native path (libjpeg-turbo)' : `sharp only — ${nativeJpegStatus()}`}`,
  );
  console.log(
    `set                         files  filmatlas ingest   ${sharpOnlyToo ? 'sharp only (FILMATLAS_NATIVE=0)   ' : ''}PIL (original)   ratio`,
  );
  const rate = (v: number): string => `${v.toFixed(1).padStart(9)} stills/s`;
  const line = (name: string, files: number, a: number, s: number | undefined, b: number) =>
    console.log(
      `${name.padEnd(27)} ${String(files).padStart(5)}  ${rate(a)} ${s === undefined ? '' : `${rate(s)} (${(s / b).toFixed(2)}×)       `}${rate(b)}  ${(a / b).toFixed(2)}×`,
    );
  for (const r of rows)
    line(r.set === 'small' ? '500×213 JPEG' : '1920×800 JPEG', r.files, r.filmatlas, r.sharpOnly, r.pil);
  line('all (time-weighted)', totalFiles, oursAll, sharpOnlyAll, pilAll);
}
