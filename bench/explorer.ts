/**
 * `npm run bench:explorer`: the explorer at the original analysis's scale.
 *
 *   node --import tsx bench/explorer.ts [--stills 132617] [--movies 2147] [--thumbs 512] [--json]
 *
 * Builds (once, cached in bench/out/explorer-atlas-<stills>) an atlas-like
 * fixture: <movies> movies with seeded credits and years, <stills> ready stills
 * whose standardised images are <thumbs> generated 224×126 PNGs shared across
 * stills (content-addressed, so each is stored once), 218-d seeded "colour"
 * features (each movie a cluster), a points layout 'pca' (each movie a blob) and
 * a 493×269 grid layout of it. Then it starts `filmatlas serve` (the built CLI)
 * and prints, from headless Chromium (Debian's, the e2e flags):
 * - time to first map paint (navigation start → first frame of 132,617 points drawn),
 * - frames drawn per second during scripted motion: 3 s of panning with all points in
 *   view, and 4 s of zooming 64× in (to thumbnails) and out while panning,
 * - JS heap used after load (after a GC),
 * - API p50/p95 latency of similar-stills queries, 400 requests, 20 in flight
 *   (after one warm-up query, whose time — loading the feature matrix — is printed too).
 * Figures only: nothing passes or fails on time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { openAtlas } from '../src/atlas/atlas.js';
import { FeatureWriter } from '../src/embed/features.js';
import { writeLayout } from '../src/atlas/layouts.js';
import { Random } from '../src/numeric/random.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const STILLS = opt('stills', 132_617);
const MOVIES = opt('movies', 2_147);
const THUMBS = opt('thumbs', 512);
const JSON_OUT = args.includes('--json');
const DIM = 218;
const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const CHROMIUM = process.env.FILMATLAS_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function log(line: string): void {
  if (!JSON_OUT) process.stderr.write(line + '\n');
}

async function buildFixture(dir: string): Promise<void> {
  const t0 = performance.now();
  rmSync(dir, { recursive: true, force: true });
  const atlas = await openAtlas(dir, { create: true });
  const rng = new Random('bench-explorer');
  // Thumbnails: gradients in seeded colours.
  const shas: string[] = [];
  const thumbRgb: [number, number, number][] = [];
  for (let t = 0; t < THUMBS; t++) {
    const c = [rng.int(256), rng.int(256), rng.int(256)] as [number, number, number];
    const d = [rng.int(256), rng.int(256), rng.int(256)];
    const px = Buffer.alloc(224 * 126 * 3);
    for (let y = 0; y < 126; y++)
      for (let x = 0; x < 224; x++) {
        const f = (x + y) / (224 + 126);
        for (let k = 0; k < 3; k++) px[(y * 224 + x) * 3 + k] = Math.round(c[k] * (1 - f) + d[k] * f);
      }
    const png = await sharp(px, { raw: { width: 224, height: 126, channels: 3 } })
      .png()
      .toBuffer();
    const sha = createHash('sha256').update(png).digest('hex');
    await atlas.store.put('stills', sha, 'png', png);
    shas.push(sha);
    thumbRgb.push(c);
  }
  // Movies and stills, registered and marked standardised in two transactions (the ingest
  // path would decode 132k images).
  const people = Array.from({ length: 400 }, (_, i) => `Person ${i}`);
  const stillMovie: number[] = [];
  const thumbOf: string[] = [];
  const sources: string[][] = Array.from({ length: MOVIES }, () => []);
  for (let i = 0; i < STILLS; i++) {
    const m = Math.min(MOVIES - 1, Math.floor((i * MOVIES) / STILLS));
    const base = (m * 37) % THUMBS;
    thumbOf.push(shas[(base + rng.int(4)) % THUMBS]);
    sources[m].push(`bench://movie-${m}/still-${i}.jpg`);
    stillMovie.push(m);
  }
  await atlas.catalog.registerMovies(
    sources.map((list, m) => ({
      spec: {
        title: `Movie ${m}`,
        year: 1930 + rng.int(90),
        director: people[rng.int(people.length)],
        cinematographer: people[rng.int(people.length)],
        attributes: { family: `family-${m % 8}` },
      },
      sources: list,
    })),
  );
  const stillIds = (await atlas.catalog.pendingStills()).map((s) => s.id); // by id: registration order
  await atlas.catalog.applyUpdates(
    stillIds.map((id, i) => ({
      id,
      status: 'ready' as const,
      originalSha256: thumbOf[i],
      originalExt: 'jpg',
      originalBytes: 0,
      originalFormat: 'jpeg',
      width: 1920,
      height: 1080,
      stdSha256: thumbOf[i],
    })),
  );
  // Features: each movie a cluster around a centre.
  const centres = new Float32Array(MOVIES * DIM);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal();
  const w = FeatureWriter.open(atlas, { model: 'color', dim: DIM, preprocess: 'bench' });
  const block = 4096;
  for (let s = 0; s < STILLS; s += block) {
    const n = Math.min(block, STILLS - s);
    const data = new Float32Array(n * DIM);
    for (let i = 0; i < n; i++) {
      const m = stillMovie[s + i];
      for (let j = 0; j < DIM; j++) data[i * DIM + j] = centres[m * DIM + j] + 0.6 * rng.normal();
    }
    w.append(stillIds.slice(s, s + n), data);
  }
  w.close();
  // Layouts: a blob per movie; the grid orders stills by (y, x) into 493 × 269 cells.
  const mc = Array.from({ length: MOVIES }, () => [rng.normal() * 10, rng.normal() * 10]);
  const xy = new Float32Array(2 * STILLS);
  for (let i = 0; i < STILLS; i++) {
    const c = mc[stillMovie[i]];
    xy[2 * i] = c[0] + rng.normal() * 0.35;
    xy[2 * i + 1] = c[1] + rng.normal() * 0.35;
  }
  const ids = Uint32Array.from(stillIds);
  writeLayout(atlas, {
    name: 'pca',
    kind: 'points',
    features: 'color',
    method: 'bench',
    params: {},
    xy,
    ids,
  });
  const cols = 493;
  const rows = Math.ceil(STILLS / cols);
  const order = Array.from({ length: STILLS }, (_, i) => i).sort((a, b) => xy[2 * a + 1] - xy[2 * b + 1]);
  const gxy = new Float32Array(2 * STILLS);
  for (let r = 0; r < rows; r++) {
    const band = order.slice(r * cols, (r + 1) * cols).sort((a, b) => xy[2 * a] - xy[2 * b]);
    band.forEach((i, c) => {
      gxy[2 * i] = c;
      gxy[2 * i + 1] = r;
    });
  }
  writeLayout(atlas, {
    name: 'pca-grid',
    kind: 'grid',
    features: 'color',
    method: 'bench',
    params: {},
    xy: gxy,
    ids,
    grid: { cols, rows },
  });
  await atlas.close();
  log(
    `fixture: ${MOVIES} movies, ${STILLS} stills, ${THUMBS} thumbnails in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${dir}`,
  );
}

function startServe(atlas: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--atlas', atlas, '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"url"'));
      if (line) ok({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.on('exit', (code) => fail(new Error(`serve exited ${code}: ${out}`)));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('build first: npm run build');
  const fixture = join(ROOT, 'bench', 'out', `explorer-atlas-${STILLS}`);
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  if (!existsSync(join(fixture, 'maps', 'pca-grid', 'layout.json'))) await buildFixture(fixture);
  const { child, url } = await startServe(fixture);
  const figures: Record<string, number | string> = { stills: STILLS, movies: MOVIES };
  const profile = mkdtempSync(join(tmpdir(), 'filmatlas-bench-chromium-'));
  try {
    // API latency first, on a quiet machine.
    const rng = new Random('bench-queries');
    const summary = (await (await fetch(`${url}api/atlas`)).json()) as { stills: number };
    const ids = (await (await fetch(`${url}api/layouts/pca/ids.u32`)).arrayBuffer()) as ArrayBuffer;
    const idArr = new Uint32Array(ids);
    let t = performance.now();
    await (await fetch(`${url}api/stills/${idArr[0]}/similar?k=12`)).json();
    figures.similarWarmupMs = Math.round(performance.now() - t);
    const lat: number[] = [];
    let next = 0;
    const total = 400;
    t = performance.now();
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < total) {
          next++;
          const id = idArr[rng.int(idArr.length)];
          const s = performance.now();
          const r = await fetch(`${url}api/stills/${id}/similar?k=12`);
          await r.arrayBuffer();
          if (!r.ok) throw new Error(`similar ${id}: ${r.status}`);
          lat.push(performance.now() - s);
        }
      }),
    );
    const wall = (performance.now() - t) / 1000;
    lat.sort((a, b) => a - b);
    figures.similarP50Ms = Math.round(percentile(lat, 50));
    figures.similarP95Ms = Math.round(percentile(lat, 95));
    figures.similarPerSecond = Math.round(total / wall);
    // Similar movies (looks' symmetric best-match over all stills), uncached: three movies in turn.
    const mt: number[] = [];
    for (const m of [1, 2, 3]) {
      const s = performance.now();
      const r = await fetch(`${url}api/movies/${m}/similar?k=8`);
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`similar movies ${m}: ${r.status}`);
      mt.push(performance.now() - s);
    }
    figures.similarMoviesMs = Math.round(mt.reduce((a, b) => a + b, 0) / mt.length);
    log(`similar movies (uncached, k=8): ${figures.similarMoviesMs} ms each on average`);
    log(
      `similar stills (k=12, ${summary.stills} stills × ${DIM}-d, 20 in flight): p50 ${figures.similarP50Ms} ms, p95 ${figures.similarP95Ms} ms, ${figures.similarPerSecond}/s; first query (loads features) ${figures.similarWarmupMs} ms`,
    );

    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1600, height: 1000 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${url}#/map?layout=pca`);
      // Browser-side code as strings: bench/ is compiled without the DOM library.
      const mapEl = "document.querySelector('[data-testid=points-map]')";
      await page.waitForFunction(`${mapEl}?.dataset.firstFrameAt`, undefined, { timeout: 120_000 });
      figures.firstPaintMs = Math.round(Number(await page.evaluate(`${mapEl}.dataset.firstFrameAt`)));
      figures.renderer = String(await page.evaluate(`${mapEl}.dataset.renderer`));
      await page.waitForTimeout(500);
      // Scripted pan and zoom: 4 s of frames, zooming in 64× (to thumbnails) and back out while panning.
      // Scripted motion, frames drawn per second: (1) 3 s of panning with every point in view
      // (the fitted zoom), (2) 4 s zooming 64× in (to thumbnails) and back out while panning.
      const motion = async (zoomIn: boolean, ms: number): Promise<number> =>
        (await page.evaluate(`(async () => {
        const box = ${mapEl};
        const v0 = box.mapView.get();
        const frames0 = box.framesDrawn;
        const t0 = performance.now();
        await new Promise((done) => {
          const step = () => {
            const t = (performance.now() - t0) / ${ms};
            if (t >= 1) return done();
            const zoom = ${zoomIn} ? Math.pow(64, Math.sin(Math.PI * t)) : 1;
            const r = ${zoomIn} ? 8 : 40 / v0.k;
            box.mapView.set({ cx: v0.cx + Math.cos(6 * t) * r, cy: v0.cy + Math.sin(6 * t) * r, k: v0.k * zoom });
            requestAnimationFrame(step);
          };
          requestAnimationFrame(step);
        });
        box.mapView.set(v0);
        return (box.framesDrawn - frames0) / ((performance.now() - t0) / 1000);
      })()`)) as number;
      figures.panFps = Math.round((await motion(false, 3000)) * 10) / 10;
      figures.panZoomFps = Math.round((await motion(true, 4000)) * 10) / 10;
      const cdp = await context.newCDPSession(page);
      await cdp.send('HeapProfiler.collectGarbage');
      await cdp.send('Performance.enable');
      const metrics = (await cdp.send('Performance.getMetrics')) as {
        metrics: { name: string; value: number }[];
      };
      const heap = metrics.metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
      figures.jsHeapMB = Math.round(heap / 2 ** 20);
      await page.screenshot({ path: join(ROOT, 'bench', 'out', 'explorer-132k.png') });
      log(
        `map of ${STILLS} points (${figures.renderer}): first paint ${figures.firstPaintMs} ms after navigation start; ` +
          `${figures.panFps} frames/s panning with all points in view, ${figures.panZoomFps} during a pan/zoom to thumbnails and back; JS heap ${figures.jsHeapMB} MB after load`,
      );
    } finally {
      await context.close();
    }
  } finally {
    child.kill('SIGINT');
    rmSync(profile, { recursive: true, force: true });
  }
  if (JSON_OUT) process.stdout.write(JSON.stringify(figures) + '\n');
  else
    process.stdout.write(
      Object.entries(figures)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n') + '\n',
    );
}

await main();
