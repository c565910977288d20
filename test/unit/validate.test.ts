import assert from 'node:assert/strict';
import { test } from 'node:test';
import { choiceArg, intArg, numberArg, optionOf } from '../../src/cli/args.js';
import { AtlasError } from '../../src/errors.js';
import { EXPORT_FORMATS } from '../../src/export/features.js';
import { checkMapOptions, MAP_OPTIONS, type MapOptions } from '../../src/layout/reduce.js';
import {
  checkChoice,
  checkInt,
  checkNumber,
  checkOptions,
  intRange,
  numberRange,
  optionName,
  requireInt,
  requireNumber,
  type OptionSpec,
} from '../../src/validate.js';

/** Asserts that `f` throws an INVALID_ARGUMENT AtlasError whose message matches `re` and whose value is `value`. */
function invalid(f: () => unknown, re: RegExp, value?: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof AtlasError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.match(e.message, re);
    if (value !== undefined) assert.equal(e.value, value);
    return true;
  });
}

test('ranges in words: closed, open above, from 1, above 0', () => {
  assert.equal(intRange(1, 1024), 'an integer 1–1024');
  assert.equal(intRange(2, Infinity), 'an integer ≥ 2');
  assert.equal(intRange(1, Infinity), 'a positive integer');
  assert.equal(numberRange(0, 1), 'a number 0–1');
  assert.equal(numberRange(0, Infinity), 'a number ≥ 0');
  assert.equal(numberRange(Number.MIN_VALUE, Infinity), 'a positive number');
  assert.equal(numberRange(Number.MIN_VALUE, 1e6), 'a positive number ≤ 1000000');
});

test('checkInt / checkNumber: bounds are inclusive, undefined passes, the message names option and value', () => {
  checkInt('batch', 1, 1, 1024);
  checkInt('batch', 1024, 1, 1024);
  checkInt('batch', undefined, 1, 1024);
  invalid(() => checkInt('batch', 0, 1, 1024), /^expected an integer 1–1024 for batch but got 0$/, '0');
  invalid(() => checkInt('batch', 1025, 1, 1024), /got 1025/);
  invalid(() => checkInt('batch', 2.5, 1, 1024), /got 2\.5/);
  invalid(() => checkInt('batch', Number.NaN, 1, 1024), /got NaN/);
  invalid(() => checkInt('batch', '8', 1, 1024), /got '8'/);
  invalid(() => checkInt('n', 2 ** 53, 1, Infinity), /a positive integer for n/);
  checkNumber('min-dist', 0, 0, 1);
  checkNumber('min-dist', 1, 0, 1);
  checkNumber('min-dist', undefined, 0, 1);
  invalid(() => checkNumber('min-dist', 1.5, 0, 1), /^expected a number 0–1 for min-dist but got 1\.5$/);
  invalid(() => checkNumber('rate', Infinity, 0, Infinity), /a number ≥ 0 for rate but got Infinity/);
  invalid(() => checkNumber('rate', 0, Number.MIN_VALUE, Infinity), /a positive number for rate but got 0/);
});

test('require*: a missing value fails, a present one comes back typed; `given` is what the message shows', () => {
  assert.equal(requireInt('k', 3, 1, 10), 3);
  assert.equal(requireNumber('band', 0.5, 0.01, 1), 0.5);
  invalid(() => requireInt('k', undefined, 1, 10), /an integer 1–10 for k but got undefined/);
  invalid(() => requireNumber('band', undefined, 0.01, 1), /a number 0\.01–1 for band but got undefined/);
  invalid(() => requireInt('--k', Number.NaN, 1, 10, 'ten'), /for --k but got 'ten'$/, "'ten'");
  invalid(() => checkNumber('--band', 2, 0.01, 1, '2.0'), /for --band but got '2\.0'$/);
});

test('checkChoice: one of the names, typed', () => {
  assert.equal(checkChoice('init', 'pca', ['pca', 'random']), 'pca');
  assert.equal(checkChoice('init', undefined, ['pca', 'random']), undefined);
  invalid(
    () => checkChoice('init', 'spectral', ['pca', 'random']),
    /one of pca, random for init but got 'spectral'/,
  );
});

test('commander parsers parse the string and report it as typed', () => {
  assert.equal(intArg('--k', 1, 1000)(' 12 '), 12);
  invalid(() => intArg('--k', 1, 1000)('0'), /^expected an integer 1–1000 for --k but got '0'$/, "'0'");
  invalid(() => intArg('--k', 1, 1000)('1e2'), /for --k but got '1e2'/);
  invalid(() => intArg('--k', 1, 1000)('spoons'), /for --k but got 'spoons'/);
  invalid(() => intArg('--k', 1, 1000)('2.5'), /for --k but got '2\.5'/);
  assert.equal(numberArg('--band', 0.01, 1)('0.25'), 0.25);
  assert.equal(numberArg('--band', 0.01, 1)('1e-1'), 0.1);
  invalid(() => numberArg('--band', 0.01, 1)(''), /a number 0\.01–1 for --band but got ''/);
  invalid(() => numberArg('--band', 0.01, 1)('2'), /for --band but got '2'/);
  assert.equal(choiceArg('--mode', ['mean', 'dominant'])('mean'), 'mean');
  invalid(
    () => choiceArg('--mode', ['mean', 'dominant'])('median'),
    /one of mean, dominant for --mode but got 'median'/,
  );
});

test('option specs: names in kebab-case, checked from the table', () => {
  assert.equal(optionName({ key: 'minDist' }), 'min-dist');
  assert.equal(optionName({ key: 'pcaMethod' }), 'pca-method');
  assert.equal(optionName({ key: 'seed' }), 'seed');
  const specs: OptionSpec[] = [
    { key: 'maxK', type: 'int', min: 2, max: 200, description: '' },
    { key: 'band', type: 'number', min: 0.01, max: 1, description: '' },
    { key: 'mode', type: 'choice', choices: ['a', 'b'], description: '' },
    { key: 'fast', type: 'switch', description: '' },
  ];
  checkOptions(specs, {});
  checkOptions(specs, { maxK: 2, band: 1, mode: 'b', fast: true, other: 'ignored' });
  invalid(() => checkOptions(specs, { maxK: 1 }), /an integer 2–200 for max-k but got 1/);
  invalid(() => checkOptions(specs, { band: 0 }), /a number 0\.01–1 for band but got 0/);
  invalid(() => checkOptions(specs, { mode: 'c' }), /one of a, b for mode but got 'c'/);
});

test('MAP_OPTIONS: every MapOptions tunable once; the library check and the CLI flag use the same range', () => {
  const keys = MAP_OPTIONS.map((s) => s.key);
  assert.equal(new Set(keys).size, keys.length, 'a key listed twice');
  const base: MapOptions = { features: 'f', reduce: 'tsne', name: 'n' };
  for (const spec of MAP_OPTIONS) {
    const option = optionOf(spec);
    const flag = `--${optionName(spec)}`;
    assert.equal(option.long, flag);
    assert.equal(option.attributeName(), spec.key, `${flag} must land on MapOptions.${spec.key}`);
    assert.equal(option.description, spec.description);
    if (spec.type === 'switch') {
      assert.equal(option.required || option.optional, false, `${flag} takes no value`);
      continue;
    }
    const parse = option.parseArg as (v: string, prev: unknown) => unknown;
    if (spec.type === 'choice') {
      for (const c of spec.choices) {
        assert.equal(parse(c, undefined), c);
        checkMapOptions({ ...base, [spec.key]: c });
      }
      invalid(() => parse('nope', undefined), new RegExp(`for ${flag} but got 'nope'`));
      invalid(
        () => checkMapOptions({ ...base, [spec.key]: 'nope' }),
        new RegExp(`for ${optionName(spec)} but got 'nope'`),
      );
      continue;
    }
    // Both ends pass on both sides; one step outside fails on both sides.
    for (const v of [spec.min, spec.max]) {
      assert.equal(parse(String(v), undefined), v);
      checkMapOptions({ ...base, [spec.key]: v });
    }
    const step = spec.type === 'int' ? 1 : 0.5;
    for (const v of [spec.min - step, spec.max + step]) {
      invalid(() => parse(String(v), undefined), new RegExp(`for ${flag} but got '${v}'`));
      invalid(
        () => checkMapOptions({ ...base, [spec.key]: v }),
        new RegExp(`for ${optionName(spec)} but got ${v}`),
      );
    }
  }
});

test('EXPORT_FORMATS: each format has its extension, description and writer', () => {
  for (const [name, f] of Object.entries(EXPORT_FORMATS)) {
    assert.match(f.extension, /^\.[a-z0-9]+$/, name);
    assert.ok(f.description.length > 0, name);
    assert.equal(typeof f.write, 'function', name);
  }
});
