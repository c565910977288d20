#!/usr/bin/env node
/**
 * Builds the optional native JPEG path (native/jpeg_still.c → native/build/Release/
 * filmatlas_native.node) with node-gyp against the system's libjpeg-turbo. Run by
 * `npm install`/`npm ci`. When it cannot be built (no C compiler, no libjpeg headers:
 * `apt-get install build-essential libjpeg62-turbo-dev`), it says so and exits 0:
 * standardisation then decodes every image with sharp, correct but slower.
 *
 *   node scripts/build-native.mjs [--required]   (--required: exit 1 when the build fails)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.argv.includes('--required');

if (process.env.FILMATLAS_NATIVE === '0') {
  console.log('filmatlas: FILMATLAS_NATIVE=0, native JPEG path not built');
  process.exit(0);
}

/** node-gyp: npm's own copy (npm puts it on PATH for install scripts), else the one beside this npm. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp))
    return process.env.npm_config_node_gyp;
  const candidates = [
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  try {
    candidates.unshift(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a dependency of ours
  }
  return candidates.find((p) => existsSync(p));
}

const gyp = nodeGyp();
const args = ['rebuild', '--directory', join(root, 'native')];
// No network: use the headers of the Node that runs us when they are installed beside it.
const prefix = resolve(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node_api.h')))
  args.push(`--nodedir=${prefix}`);

const result = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  : { status: 1, stdout: '', stderr: 'node-gyp not found' };
if (result.status === 0) {
  console.log('filmatlas: native JPEG path built (native/build/Release/filmatlas_native.node)');
  process.exit(0);
}
const why = `${result.stdout ?? ''}\n${result.stderr ?? ''}`
  .split('\n')
  .filter((l) => /error|not found|No such file/i.test(l) && !/^gyp info/.test(l))
  .slice(0, 5)
  .join('\n');
console.warn(
  `filmatlas: the native JPEG path was not built, so standardisation will decode with sharp alone (correct; an ingest of small JPEGs runs ~25% slower).\n` +
    `It needs a C compiler and libjpeg-turbo's headers: apt-get install build-essential libjpeg62-turbo-dev (Debian/Ubuntu).\n${why}`,
);
process.exit(required ? 1 : 0);
