#!/usr/bin/env node
// The main job on a generated sample, end to end:
//   sample → ingest (+ standardise) → embed (color; vgg16 when its weights are cached or given) → status → export.
// Usage: npm run demo [-- DIR]   (default DIR: ./demo). Extra env: FILMATLAS_WEIGHTS=/path/to/vgg16.safetensors
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
const vgg = step('embed vgg16', ['embed', '--atlas', atlas, '--model', 'vgg16', ...(weights ? ['--weights', weights] : [])], {
  allowFail: true,
});
if (!vgg) console.log('(vgg16 skipped: no weights here — `filmatlas models pull vgg16` on a machine with internet, or FILMATLAS_WEIGHTS=FILE)');
step('status', ['status', '--atlas', atlas]);
step('export', ['export', 'features', '--atlas', atlas, '--model', 'color', '--format', 'npy', '--out', join(dir, 'color.npy')]);
console.log(`\ndemo: done. Atlas in ${atlas}`);
