import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

const RUN_TESTS = join(REPO_ROOT, 'scripts', 'run-tests.mjs');

const SKIPPING = `import { describe, test } from 'node:test';
describe('video', { skip: 'ffmpeg is not installed' }, () => {
  test('never runs', () => {});
});
describe('readers', () => {
  test('pyarrow reads it', { skip: 'python3 lacks pyarrow' }, () => {});
  test('scipy agrees', (t) => {
    t.skip('python3 lacks scipy');
  });
  test('runs', () => {});
});
test('top level', () => {});
`;

const FAILING = `import assert from 'node:assert/strict';
import { test } from 'node:test';
test('fails', () => {
  assert.equal(1, 2);
});
test('skipped too', { skip: true }, () => {});
`;

interface Run {
  code: number;
  stdout: string;
}

/** Runs scripts/run-tests.mjs on `paths` as `npm test` would, outside this test runner. */
function runTests(paths: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = { ...process.env };
  delete clean.NODE_TEST_CONTEXT; // else the inner runner reports to this one instead of printing
  delete clean.FILMATLAS_ALLOWED_SKIPS; // CI sets it for the outer run
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [RUN_TESTS, ...paths],
      { cwd: REPO_ROOT, env: { ...clean, ...env }, maxBuffer: 16 << 20 },
      (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout }),
    );
  });
}

/** The lines after the last blank line: the summary the output must end with. */
function closing(stdout: string): string[] {
  const blocks = stdout.trimEnd().split('\n\n');
  return blocks[blocks.length - 1].split('\n');
}

/** A test file as the list names it: relative to the repository when inside it. */
function shown(file: string): string {
  const rel = relative(REPO_ROOT, file);
  return rel.startsWith('..') ? file : rel;
}

const SUMMARY = /^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [\d.]+$/;

describe('scripts/run-tests.mjs', () => {
  const dir = tempDir('filmatlas-run-tests-');
  mkdirSync(join(dir, 'ok'));
  writeFileSync(join(dir, 'ok', 'skips.test.ts'), SKIPPING);
  writeFileSync(join(dir, 'failing.test.ts'), FAILING);
  const okFile = shown(join(dir, 'ok', 'skips.test.ts'));

  test('lists every skipped test and suite with its reason after the summary, and ends with the summary', async () => {
    const r = await runTests([join(dir, 'ok')]);
    assert.equal(r.code, 0, r.stdout);
    const report = r.stdout.indexOf('\nskipped: 2 tests, 1 suite (whose tests did not run):\n');
    assert.ok(report > 0, r.stdout);
    assert.ok(
      r.stdout.lastIndexOf('ℹ skipped 2\n', report) > 0,
      'the runner printed its summary before the list',
    );
    assert.deepEqual(
      r.stdout
        .slice(report)
        .split('\n')
        .filter((l) => l.startsWith('  ﹣ ')),
      [
        `  ﹣ ${okFile} › video (suite): ffmpeg is not installed`,
        `  ﹣ ${okFile} › readers › pyarrow reads it: python3 lacks pyarrow`,
        `  ﹣ ${okFile} › readers › scipy agrees: python3 lacks scipy`,
      ],
    );
    const last = closing(r.stdout);
    assert.equal(last.length, 8, last.join('\n'));
    assert.ok(
      last.every((l) => SUMMARY.test(l)),
      last.join('\n'),
    );
    assert.deepEqual(last.slice(0, 7), [
      'ℹ tests 4',
      'ℹ suites 2',
      'ℹ pass 2',
      'ℹ fail 0',
      'ℹ cancelled 0',
      'ℹ skipped 2',
      'ℹ todo 0',
    ]);
  });

  test('a failure still exits non-zero, with the skips listed', async () => {
    const r = await runTests([join(dir, 'failing.test.ts'), join(dir, 'ok')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\nskipped: 3 tests, 1 suite \(whose tests did not run\):\n/);
    assert.ok(
      r.stdout.includes(`  ﹣ ${shown(join(dir, 'failing.test.ts'))} › skipped too: no reason given\n`),
    );
    assert.deepEqual(closing(r.stdout).slice(3, 4), ['ℹ fail 1']);
  });

  test('FILMATLAS_ALLOWED_SKIPS fails a run that skips for any other reason', async () => {
    const strict = await runTests([join(dir, 'ok')], { FILMATLAS_ALLOWED_SKIPS: 'lacks pyarrow$' });
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /✖ 2 skips not allowed by FILMATLAS_ALLOWED_SKIPS=lacks pyarrow\$:/);
    assert.ok(strict.stdout.includes(`  ✖ ${okFile} › video (suite): ffmpeg is not installed\n`));
    assert.ok(strict.stdout.includes(`  ✖ ${okFile} › readers › scipy agrees: python3 lacks scipy\n`));
    assert.ok(!strict.stdout.includes('✖ ' + `${okFile} › readers › pyarrow`));
    assert.ok(closing(strict.stdout).every((l) => SUMMARY.test(l)));

    const all = await runTests([join(dir, 'ok')], {
      FILMATLAS_ALLOWED_SKIPS: 'lacks (pyarrow|scipy)$|^ffmpeg',
    });
    assert.equal(all.code, 0, all.stdout);
    assert.ok(!all.stdout.includes('not allowed'));
  });
});
