#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's built-in runner (tsx loads TypeScript).
// Node 20's --test does not expand globs, so the file list is built here.
// Usage: node scripts/run-tests.mjs [dir-or-file ...]   (default: test/)
//
// After the runner's summary it lists every skipped test and suite with its reason, then
// repeats the summary, so the output still ends with it. The exit status is the runner's.
// FILMATLAS_ALLOWED_SKIPS (a regular expression): when set, a skip whose reason it does not
// match fails the run, so CI cannot go green while a test it could run is skipped.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(p, out) {
  if (statSync(p).isDirectory()) {
    for (const name of readdirSync(p).sort()) collect(join(p, name), out);
  } else if (p.endsWith('.test.ts')) out.push(p);
  return out;
}
const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['test']).flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error('no test files found under ' + (roots.join(', ') || 'test'));
  process.exit(1);
}

let allowed;
if (process.env.FILMATLAS_ALLOWED_SKIPS !== undefined) {
  try {
    allowed = new RegExp(process.env.FILMATLAS_ALLOWED_SKIPS);
  } catch (err) {
    console.error(`FILMATLAS_ALLOWED_SKIPS is not a regular expression: ${err.message}`);
    process.exit(1);
  }
}

const reportDir = mkdtempSync(join(tmpdir(), 'filmatlas-tests-'));
const reportFile = join(reportDir, 'skips.jsonl');
let status;
let report;
try {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${new URL('./skip-reporter.mjs', import.meta.url).href}`,
      `--test-reporter-destination=${reportFile}`,
      '--test-concurrency=2',
      ...files,
    ],
    { stdio: 'inherit' },
  );
  status = r.status ?? 1;
  report = readFileSync(reportFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
} catch (err) {
  console.error(`\nno skip report: ${err.message}`);
  report = [];
  if (!status) status = 1;
} finally {
  rmSync(reportDir, { recursive: true, force: true });
}

const skips = report.filter((e) => e.names);
const summary = report.filter((e) => e.summary).map((e) => e.summary);
const count = (n, what) => `${n} ${what}${n === 1 ? '' : 's'}`;
const tests = skips.filter((s) => !s.suite).length;
const suites = skips.length - tests;
console.log(
  `\nskipped: ${count(tests, 'test')}` +
    (suites ? `, ${count(suites, 'suite')} (whose tests did not run)` : '') +
    (skips.length ? ':' : ''),
);
const where = (file) => {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file || '?';
};
const describe = (s) =>
  `${[where(s.file), ...s.names].join(' › ')}${s.suite ? ' (suite)' : ''}: ${s.reason || 'no reason given'}`;
for (const s of skips) console.log(`  ﹣ ${describe(s)}`);

if (allowed) {
  const unexpected = skips.filter((s) => !allowed.test(s.reason));
  if (unexpected.length) {
    console.log(
      `\n✖ ${count(unexpected.length, 'skip')} not allowed by FILMATLAS_ALLOWED_SKIPS=${allowed.source}:`,
    );
    for (const s of unexpected) console.log(`  ✖ ${describe(s)}`);
    if (status === 0) status = 1;
  }
}

// The runner's own summary last, as it printed it.
if (summary.length) console.log('\n' + summary.map((line) => `ℹ ${line}`).join('\n'));
process.exit(status);
