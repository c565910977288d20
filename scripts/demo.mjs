#!/usr/bin/env node
// The main job on a generated sample, end to end:
//   sample → ingest (+ standardise) → embed (color; vgg16 when its weights are cached or given) → status
//   → map (PCA, UMAP) → grid → mosaic + plot → palette, similar movies, clusters → export.
// Usage: npm run demo [-- DIR]   (default DIR: ./demo). Extra env: FILMATLAS_WEIGHTS=/path/to/vgg16.safetensors
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const cli = join(root, 'dist/cli/main.js');
if (!existsSync(cli)) {
  console.error('dist/ is missing: run `npm run build` (npm ci does it for you)');
  process.exit(1);
}
const dir = resolve(process.argv[2] ?? join(root, 'demo'));
const stills = join(dir, 'stills');
const atlas = join(dir, 'atlas');

function step(title, args, { allowFail = false } = {}) {
  console.log(`\n$ filmatlas ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0 && !allowFail) {
    console.error(`demo: '${title}' failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  return r.status === 0;
}

if (!existsSync(join(stills, 'movies.csv'))) {
  step('sample', ['sample', stills, '--movies', '24', '--stills', '40', '--seed', '7', '--with-bad-files']);
}
step('ingest', ['ingest', stills, '--atlas', atlas]);
step('embed color', ['embed', '--atlas', atlas, '--model', 'color']);
const weights = process.env.FILMATLAS_WEIGHTS;
const vgg = step(
  'embed vgg16',
  ['embed', '--atlas', atlas, '--model', 'vgg16', ...(weights ? ['--weights', weights] : [])],
  {
    allowFail: true,
  },
);
if (!vgg)
  console.log(
    '(vgg16 skipped: no weights here — `filmatlas models pull vgg16` on a machine with internet, or FILMATLAS_WEIGHTS=FILE)',
  );
step('status', ['status', '--atlas', atlas]);
// Maps: the original analysis's standardised PCA, then UMAP; the PCA snapped to a grid and drawn.
const features = vgg ? 'vgg16' : 'color';
step('map pca', [
  'map',
  '--atlas',
  atlas,
  '--features',
  features,
  '--reduce',
  'pca',
  '--standardize',
  '--name',
  'pca',
]);
step('map umap', ['map', '--atlas', atlas, '--features', 'color', '--reduce', 'umap', '--name', 'umap']);
step('grid', ['grid', '--atlas', atlas, '--layout', 'pca', '--name', 'pca-grid']);
step('mosaic', ['render', '--atlas', atlas, '--layout', 'pca-grid', '--mosaic', join(dir, 'pca-grid.png')]);
step('plot', [
  'render',
  '--atlas',
  atlas,
  '--layout',
  'umap',
  '--plot',
  join(dir, 'umap.svg'),
  '--color-by',
  'family',
]);
// Looks: a movie's palette, the movies that look like it, clusters of stills.
const firstMovie = readFileSync(join(stills, 'movies.csv'), 'utf8').split('\n')[1];
const [title, year] = parseCsvLine(firstMovie);
const movie = `${title} (${year})`;
step('palette', ['palette', '--atlas', atlas, '--movie', movie, '--png', join(dir, 'palette.png')]);
step('similar movie', ['similar', 'movie', movie, '--atlas', atlas, '--features', 'color', '--k', '5']);
step('cluster', ['cluster', '--atlas', atlas, '--features', 'color', '--k', '4', '--name', 'looks']);
step('export', [
  'export',
  'features',
  '--atlas',
  atlas,
  '--model',
  'color',
  '--format',
  'npy',
  '--out',
  join(dir, 'color.npy'),
]);
step('export layout', [
  'export',
  'layout',
  'pca-grid',
  '--atlas',
  atlas,
  '--format',
  'csv',
  '--out',
  join(dir, 'pca-grid.csv'),
]);
console.log(
  `\ndemo: done. Atlas in ${atlas}; pictures in ${dir}. Explore it: npx filmatlas serve --atlas ${atlas}`,
);

/** The first fields of one CSV line (quotes handled). */
function parseCsvLine(line) {
  const out = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field.trim());
  return out;
}
