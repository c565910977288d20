/**
 * The explorer's API contract (src/api/contract.ts) is shared by the server and the
 * web bundle: it must stay importable without Node, the web app must reach the
 * library through it only, and the documented routes must be the contract's.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as contract from '../../src/api/contract.js';
import { MAX_RESULTS } from '../../src/server/data.js';
import { REPO_ROOT } from '../helpers/tmp.js';

const source = readFileSync(join(REPO_ROOT, 'src', 'api', 'contract.ts'), 'utf8');

test('the contract imports nothing and exports types and a few numbers only', () => {
  assert.doesNotMatch(source, /^\s*import\b|\brequire\(|\bimport\(/m);
  assert.deepEqual(Object.keys(contract).sort(), ['API_VERSION', 'MAX_RESULTS', 'NO_CLUSTER']);
  assert.ok(Number.isInteger(contract.API_VERSION) && contract.API_VERSION >= 1);
  assert.equal(MAX_RESULTS, contract.MAX_RESULTS, 'the server caps results as the contract says');
});

test('the web app reaches the library only through the contract', () => {
  const dir = join(REPO_ROOT, 'web', 'src');
  const files = readdirSync(dir).filter((f) => /\.tsx?$/.test(f));
  assert.ok(files.includes('api.ts'));
  let viaContract = 0;
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/\bfrom\s+'([^']+)'/g)) {
      const spec = m[1];
      if (spec === '@filmatlas/api') viaContract++;
      else
        assert.ok(
          spec.startsWith('./') || /^(preact|preact\/hooks|regl|openseadragon)$/.test(spec),
          `${f} imports '${spec}'`,
        );
    }
  }
  assert.ok(viaContract >= 1);
  const web = readFileSync(join(REPO_ROOT, 'web', 'src', 'api.ts'), 'utf8');
  assert.doesNotMatch(web, /export interface (Movie|Still|AtlasSummary|ColourSearch|Comparison)\b/);
});

test('every JSON route of the contract is documented in docs/explorer.md', () => {
  const routes = [...source.matchAll(/^\s*'(\/api\/[^']*)':/gm)].map((m) => m[1]);
  assert.ok(routes.length >= 10);
  const docs = readFileSync(join(REPO_ROOT, 'docs', 'explorer.md'), 'utf8');
  for (const r of routes) assert.ok(docs.includes(`\`${r}`), `docs/explorer.md lists ${r}`);
  assert.match(docs, /src\/api\/contract\.ts/);
  assert.match(docs, /apiVersion/);
});
