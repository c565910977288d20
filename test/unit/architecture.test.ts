/**
 * The stage folders of src/ import in one direction (docs/architecture.md): a module
 * imports from its own stage, from stages to its left, and from the leaves (errors,
 * types, validation, the API contract, the atlas's paths and crash-safe writes). This
 * test reads every import of every module and names each one that points right.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/tmp.js';

const SRC = join(REPO_ROOT, 'src');

/** Left to right. A stage may import from any stage before it. */
const STAGES = [
  'catalog',
  'store',
  'atlas',
  'numeric',
  'imaging',
  'sources',
  'embed',
  'layout',
  'looks',
  'render',
  'export',
  'status',
  'server',
  'cli',
] as const;

/** Modules any stage may import: they import only other leaves and Node. */
const LEAVES = [
  'errors.ts',
  'types.ts',
  'validate.ts',
  'api/contract.ts',
  'atlas/paths.ts',
  'atlas/files.ts',
];
/** The library's front door sits above every stage. */
const TOP = ['index.ts'];

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? modules(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function rank(rel: string): number {
  if (LEAVES.includes(rel)) return -1;
  if (TOP.includes(rel)) return Infinity;
  const stage = rel.split('/')[0];
  const i = (STAGES as readonly string[]).indexOf(stage);
  assert.ok(i >= 0, `src/${rel} is in no known stage: add its folder to STAGES (and docs/architecture.md)`);
  return i;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => relative(SRC, resolve(dirname(file), s)).replace(/\.js$/, '.ts'));
}

test('every import in src/ points to its own stage, a stage to its left, or a leaf', () => {
  const wrong: string[] = [];
  for (const file of modules(SRC)) {
    const from = relative(SRC, file);
    const r = rank(from);
    for (const to of importsOf(file)) {
      if (to.startsWith('..')) {
        wrong.push(`src/${from} imports ${to}, outside src/`);
        continue;
      }
      const sameStage = from.split('/')[0] === to.split('/')[0] && from.includes('/');
      if (!sameStage && rank(to) > r) wrong.push(`src/${from} imports src/${to}, a stage to its right`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the leaves import only leaves', () => {
  for (const leaf of LEAVES) {
    for (const to of importsOf(join(SRC, leaf)))
      assert.ok(LEAVES.includes(to), `src/${leaf} imports src/${to}`);
  }
});

test('no SQL outside src/catalog/', () => {
  const sql = /\b(SELECT\s+[\w*]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|\.prepare\(|\.pragma\()/;
  const found = modules(SRC)
    .filter((f) => !relative(SRC, f).startsWith('catalog/'))
    .filter((f) => sql.test(readFileSync(f, 'utf8')))
    .map((f) => relative(SRC, f));
  assert.deepEqual(found, []);
});
