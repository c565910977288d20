/**
 * Standardise-only throughput: originals already in memory → 224×126 PNG buffers, with
 * 1–8 stills in flight. Prints stills/s and CPU ms per still (all threads), next to
 * plain sharp with default settings and, when /usr/bin/python3 has PIL, the original
 * analysis's PIL code on the same files.
 *
 *   ANCHOR_OUT=/tmp/anchor-img /usr/bin/python3 ../shared/anchors/gen_images.py
 *   node --import tsx bench/standardise-only.ts [/tmp/anchor-img/img] [--parallel 1,2,4,8] [--rounds 3] [--no-pil]
 *
 * Figures only: nothing here passes or fails on time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { configureSharp, standardiseImage } from '../src/imaging/standardise.js';

const args = process.argv.slice(2);
function flag(name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const root = resolve(
  args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? '/tmp/anchor-img/img',
);
const parallel = flag('--parallel', '1,2,4,8').split(',').map(Number);
const rounds = Number(flag('--rounds', '3'));
const withPil = !args.includes('--no-pil');
const withPlain = !args.includes('--no-plain');

type Job = (input: Buffer) => Promise<unknown>;

async function run(
  inputs: Buffer[],
  job: Job,
  inFlight: number,
): Promise<{ perSecond: number; cpuMs: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) await job(inputs[next++]);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  return { perSecond: inputs.length / seconds, cpuMs: (cpu.user + cpu.system) / 1000 / inputs.length };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function pil(dir: string): number | undefined {
  const script = resolve(import.meta.dirname, '../../shared/anchors/pil_standardise.py');
  if (!existsSync(script)) return undefined;
  const out = mkdtempSync(join(tmpdir(), 'pil-std-'));
  try {
    const r = spawnSync('/usr/bin/python3', [script, dir, out], { encoding: 'utf8' });
    if (r.status !== 0) return undefined;
    return (JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { img_s?: number }).img_s;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

configureSharp();
const plain: Job = (input) =>
  sharp(input)
    .resize(224, 126, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .png()
    .toBuffer();
const ours: Job = (input) => standardiseImage(input);

const sets = existsSync(join(root, 'small')) ? ['small', 'large'].map((s) => join(root, s)) : [root];
for (const dir of sets) {
  const files = readdirSync(dir)
    .filter((f) => /\.(jpe?g|png|webp|gif|tiff?)$/i.test(f))
    .sort();
  if (files.length === 0) continue;
  const inputs = files.map((f) => readFileSync(join(dir, f)));
  const m = await sharp(inputs[0]).metadata();
  console.log(`\n${dir}: ${inputs.length} files, ${m.width}×${m.height} ${m.format}`);
  await run(inputs.slice(0, 20), ours, 2); // warm-up
  const pilRate = withPil ? pil(dir) : undefined;
  if (pilRate !== undefined)
    console.log(`  PIL (original code, 1 process)      ${pilRate.toFixed(0).padStart(5)} stills/s`);
  for (const [name, job] of [
    ['filmatlas standardiseImage', ours],
    ...(withPlain ? [['plain sharp (contain + png())', plain]] : []),
  ] as [string, Job][]) {
    for (const p of parallel) {
      const results = [];
      for (let r = 0; r < rounds; r++) results.push(await run(inputs, job, p));
      const rate = median(results.map((x) => x.perSecond));
      const cpu = median(results.map((x) => x.cpuMs));
      const ratio = pilRate ? `  ${(rate / pilRate).toFixed(2)}× PIL` : '';
      console.log(
        `  ${name.padEnd(34)} ${p} in flight ${rate.toFixed(0).padStart(5)} stills/s  ${cpu.toFixed(2)} ms CPU/still${ratio}`,
      );
    }
  }
}
