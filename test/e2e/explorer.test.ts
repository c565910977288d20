/**
 * The explorer in a real browser: a sample atlas (colour features, a PCA map, a
 * grid with deep-zoom tiles, palettes and clusters) served by the built CLI, and
 * Debian's Chromium driven by playwright-core through map → still → movie →
 * similar movie and the other views. Screenshots go to test-output/explorer/
 * (git-ignored) or $FILMATLAS_SCREENSHOTS.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { cli } from '../helpers/cli.js';
import { CLI, REPO_ROOT, tempDir } from '../helpers/tmp.js';

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
const XSS = '<img src=x onerror=alert(1)>';
const SHOTS = process.env.FILMATLAS_SCREENSHOTS ?? join(REPO_ROOT, 'test-output', 'explorer');
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

const dir = tempDir('filmatlas-explorer-');
const atlas = join(dir, 'atlas');
let serve: ChildProcess | undefined;
let url = '';
let context: BrowserContext | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];
const dialogs: string[] = [];

async function ok(args: string[]): Promise<void> {
  const r = await cli(args);
  assert.equal(r.code, 0, `filmatlas ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
}

/** Starts `filmatlas serve` on a free port; resolves with its URL. */
function startServe(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', ...args, '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const j = JSON.parse(line) as { event: string; url?: string };
        if (j.event === 'result' && j.url) resolve({ child, url: j.url });
        if (j.event === 'error') reject(new Error(line));
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}\n${err}`)));
  });
}

/** Waits until every image on the page has loaded (or failed) and two frames have passed. */
async function settle(p: Page): Promise<void> {
  // Browser-side code as strings: the test is compiled without the DOM library.
  await p.waitForFunction('Array.from(document.images).every((i) => i.complete)', undefined, {
    timeout: 20_000,
  });
  await p.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
}

async function shot(name: string): Promise<void> {
  await settle(page);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

before(async () => {
  if (skip) return;
  const src = join(dir, 'stills');
  await ok(['sample', src, '--movies', '4', '--stills', '8', '--width', '200']);
  const hostile = join(dir, 'hostile', `${XSS} (2001)`);
  mkdirSync(hostile, { recursive: true });
  await sharp({ create: { width: 200, height: 112, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .png()
    .toFile(join(hostile, 'still-1.png'));
  await ok(['ingest', src, hostile, '--atlas', atlas, '--json']);
  await ok(['embed', '--atlas', atlas, '--model', 'color', '--json']);
  await ok(['map', '--atlas', atlas, '--features', 'color', '--reduce', 'pca', '--name', 'pca', '--json']);
  await ok(['grid', '--atlas', atlas, '--layout', 'pca', '--name', 'pca-grid', '--json']);
  await ok(['palette', '--atlas', atlas, '--json']);
  await ok(['cluster', '--atlas', atlas, '--name', 'looks', '--k', '4', '--json']);
  // The deep-zoom tiles are rendered by serve --deepzoom (into maps/pca-grid/).
  const s = await startServe(['--atlas', atlas, '--deepzoom']);
  serve = s.child;
  url = s.url;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'binds 127.0.0.1 by default');
  mkdirSync(SHOTS, { recursive: true });
  context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'filmatlas-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 860 },
  });
  browser = context.browser() ?? undefined;
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
});

after(async () => {
  await context?.close();
  await browser?.close();
  serve?.kill('SIGINT');
});

test('map → still → movie → similar movie, with screenshots', { skip }, async () => {
  await page.goto(`${url}#/map?layout=pca`);
  const map = page.getByTestId('points-map');
  await map.waitFor();
  await page.waitForFunction(
    "Number(document.querySelector('[data-testid=points-map]')?.dataset.frames ?? 0) > 0",
  );
  assert.equal(await map.getAttribute('data-renderer'), 'webgl');
  // Zoomed to fit 33 stills: thumbnails replace the dots.
  await page.waitForSelector('.thumbs img[data-still]');
  await shot('map-points');

  // Hover shows the still and its movie; a click opens it.
  const thumb = page.locator('.thumbs img[data-still]').first();
  const stillId = Number(await thumb.getAttribute('data-still'));
  const box = (await thumb.boundingBox())!;
  // The thumbnail is centred on its point.
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.getByTestId('tooltip').waitFor();
  await page.mouse.down();
  await page.mouse.up();
  await page.getByTestId('still-view').waitFor();
  const openedId = Number(new URL(page.url()).hash.match(/still\/(\d+)/)![1]);
  assert.ok(Number.isInteger(openedId));
  assert.ok(stillId > 0);
  await page.getByTestId('similar-stills').locator('img').first().waitFor();
  assert.equal(await page.getByTestId('similar-stills').locator('img').count(), 12);
  await shot('still');

  // The still's movie: its sequence in film order, barcode, palette, similar movies.
  const movieLink = page.getByTestId('movie-link');
  const movieTitle = (await movieLink.textContent())!;
  await movieLink.click();
  await page.getByTestId('movie-view').waitFor();
  assert.equal(await page.getByTestId('movie-title').textContent(), movieTitle);
  const expectStills = movieTitle.startsWith('<img') ? 1 : 8;
  assert.equal(await page.getByTestId('sequence').locator('img').count(), expectStills);
  await page.getByTestId('similar-movies').locator('li a').first().waitFor();
  await shot('movie');

  // …and on to the most similar movie.
  const next = page.getByTestId('similar-movies').locator(':scope > li > div > a').first();
  const nextTitle = (await next.textContent())!;
  assert.notEqual(nextTitle, movieTitle);
  await next.click();
  const titleIs = `document.querySelector('[data-testid=movie-title]')?.textContent === ${JSON.stringify(nextTitle)}`;
  await page.waitForFunction(titleIs);
  await shot('similar-movie');

  // Deep links: a reload lands on the same view.
  await page.reload();
  await page.waitForFunction(titleIs);

  // The movie's stills on the map as a path in film order, and listed below it.
  await page.getByTestId('movie-on-map').click();
  await page.getByTestId('selection').waitFor();
  assert.match((await page.getByTestId('selection').locator('h3').textContent())!, /8 stills in 1 movies/);
  await shot('map-movie-path');
  assert.deepEqual(pageErrors, []);
});

test('the grid as a deep-zoom image: tiles load, hover and click open a still', { skip }, async () => {
  await page.goto(`${url}#/map?layout=pca-grid`);
  await page.waitForSelector('[data-testid=deepzoom-map][data-ready="1"]');
  await page.waitForTimeout(800); // tiles fade in
  await shot('map-deepzoom');
  const r = (await page.locator('.osd').boundingBox())!;
  await page.mouse.move(r.x + r.width / 2, r.y + r.height / 2);
  await page.getByTestId('tooltip').waitFor();
  await page.mouse.down();
  await page.mouse.up();
  await page.getByTestId('still-view').waitFor();
  // "Find on the map" goes back to the map with the still marked.
  await page.getByTestId('find-on-map').click();
  await page.getByTestId('points-map').waitFor();
  assert.match(page.url(), /focus=\d+/);
  assert.deepEqual(pageErrors, []);
});

test('clusters, colour search and compare views', { skip }, async () => {
  await page.goto(`${url}#/clusters`);
  await page.getByTestId('clusters-view').waitFor();
  assert.equal(await page.locator('.cluster').count(), 4);
  await shot('clusters');

  await page.goto(`${url}#/search?colours=%23203040,%23e08040&target=stills`);
  await page.getByTestId('colour-results').locator('img').first().waitFor();
  assert.equal(await page.getByTestId('colour-results').locator('figure').count(), 24);
  await shot('colour-search');

  await page.goto(`${url}#/compare?a=1&b=2`);
  await page.getByTestId('aligned').waitFor();
  const rows = page.getByTestId('aligned').locator('.row');
  assert.equal(await rows.count(), 2);
  assert.ok((await rows.first().locator('img').count()) >= 8);
  await shot('compare');
  assert.deepEqual(pageErrors, []);
});

test('a movie titled with markup shows as text and runs nothing', { skip }, async () => {
  await page.goto(`${url}#/movies`);
  await page.getByTestId('movie-index').waitFor();
  const link = page.getByText(`${XSS} (2001)`, { exact: true });
  await link.waitFor();
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  await link.click();
  await page.getByTestId('movie-view').waitFor();
  assert.equal(await page.getByTestId('movie-title').textContent(), `${XSS} (2001)`);
  await settle(page);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(pageErrors, []);
});

test('a missing or corrupt atlas: a clear message and a non-zero exit, no stack trace', async () => {
  const missing = await cli(['serve', '--atlas', join(dir, 'nowhere'), '--port', '0']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no atlas at/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
  const corrupt = join(dir, 'corrupt');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'atlas.db'), 'this is not a database, just some bytes '.repeat(100));
  const bad = await cli(['serve', '--atlas', corrupt, '--port', '0']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /filmatlas: /);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});
