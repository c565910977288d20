import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  isTempName,
  readJsonFile,
  replaceDir,
  replaceDirSync,
  tempPathFor,
  writeAtomic,
  writeAtomicVia,
  writeAtomicViaSync,
  writeJsonAtomic,
} from '../../src/atlas/files.js';
import { tempDir } from '../helpers/tmp.js';

/** Entries of a directory that are our temporaries (what a crash or a failed write would leave). */
function temporaries(dir: string): string[] {
  return readdirSync(dir).filter(isTempName);
}

test('writeAtomic: writes whole, makes the folder, and replaces an old file', () => {
  const dir = tempDir();
  const path = join(dir, 'a', 'b', 'x.bin');
  writeAtomic(path, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  writeAtomic(path, 'new');
  assert.equal(readFileSync(path, 'utf8'), 'new');
  assert.deepEqual(temporaries(join(dir, 'a', 'b')), []);
});

test('writeAtomic: a write that fails keeps the old content and leaves no temporary file', async () => {
  const dir = tempDir();
  const path = join(dir, 'x.json');
  writeFileSync(path, 'old');

  // The fill fails half-way through (a disk full, a bad value): the target is untouched.
  assert.throws(
    () =>
      writeAtomicViaSync(path, (tmp) => {
        writeFileSync(tmp, 'half a fi');
        throw new Error('disk full');
      }),
    /disk full/,
  );
  assert.equal(readFileSync(path, 'utf8'), 'old');
  assert.deepEqual(temporaries(dir), []);

  await assert.rejects(
    writeAtomicVia(path, async (tmp) => {
      writeFileSync(tmp, 'half');
      await new Promise((r) => setImmediate(r));
      throw new Error('stream broke');
    }),
    /stream broke/,
  );
  assert.equal(readFileSync(path, 'utf8'), 'old');
  assert.deepEqual(temporaries(dir), []);

  // The rename fails (a directory stands where the file should go): the bytes written are removed.
  const blocked = join(dir, 'blocked');
  mkdirSync(join(blocked, 'inside'), { recursive: true });
  assert.throws(() => writeAtomic(blocked, 'data'));
  assert.ok(existsSync(join(blocked, 'inside')), 'the directory in the way is untouched');
  assert.deepEqual(temporaries(dir), []);

  // The temporary file cannot be made (its folder is missing): nothing changes.
  assert.throws(() => writeAtomic(path, 'new', { tmp: join(dir, 'no-such-folder', 'x.tmp') }), /ENOENT/);
  assert.equal(readFileSync(path, 'utf8'), 'old');
});

test('writeAtomic: a named temporary (a store that sweeps its own folder) is used and gone after', () => {
  const dir = tempDir();
  const sweep = join(dir, '.tmp');
  mkdirSync(sweep);
  const path = join(dir, 'stills', 'ab', 'abc.png');
  writeAtomic(path, 'png', { tmp: join(sweep, `${process.pid}-0001`) });
  assert.equal(readFileSync(path, 'utf8'), 'png');
  assert.deepEqual(readdirSync(sweep), []);
});

test('writeAtomicVia: returns what fill returns; the target appears only once fill is done', async () => {
  const dir = tempDir();
  const path = join(dir, 'index.bin');
  const seen = await writeAtomicVia(path, async (tmp) => {
    writeFileSync(tmp, 'abc');
    assert.ok(!existsSync(path), 'nothing at the target while it is being written');
    assert.ok(isTempName(tmp.slice(dir.length + 1)), `a temporary's name: ${tmp}`);
    return 42;
  });
  assert.equal(seen, 42);
  assert.equal(readFileSync(path, 'utf8'), 'abc');
});

test('writeJsonAtomic and readJsonFile: round trip; a missing or damaged file reads as undefined', () => {
  const dir = tempDir();
  const path = join(dir, 'm.json');
  writeJsonAtomic(path, { a: 1, b: [2, 3] });
  assert.equal(readFileSync(path, 'utf8'), '{\n  "a": 1,\n  "b": [\n    2,\n    3\n  ]\n}\n');
  assert.deepEqual(readJsonFile(path), { a: 1, b: [2, 3] });
  assert.equal(readJsonFile(join(dir, 'missing.json')), undefined);
  writeFileSync(path, '{"a": 1, "b": [2');
  assert.equal(readJsonFile(path), undefined);
});

test('replaceDir: swaps the new directory in whole; the old one stays as it was until then', async () => {
  const root = tempDir();
  const dir = join(root, 'maps', 'pts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'a'), 'old a');
  writeFileSync(join(dir, 'b'), 'old b');

  const result = await replaceDir(dir, async (tmp) => {
    writeFileSync(join(tmp, 'c'), 'new c');
    await new Promise((r) => setImmediate(r));
    // A reader during the fill sees the old directory, whole.
    assert.deepEqual(readdirSync(dir).sort(), ['a', 'b']);
    return 'filled';
  });
  assert.equal(result, 'filled');
  assert.deepEqual(readdirSync(dir), ['c'], 'no file of the old directory survives');
  assert.equal(readFileSync(join(dir, 'c'), 'utf8'), 'new c');
  assert.deepEqual(readdirSync(join(root, 'maps')), ['pts'], 'no temporary or old directory left beside it');

  // A directory that did not exist yet (its parent neither).
  replaceDirSync(join(root, 'clusters', 'fam'), (tmp) => writeFileSync(join(tmp, 'labels.json'), '{}'));
  assert.deepEqual(readdirSync(join(root, 'clusters')), ['fam']);
});

test('replaceDir: when fill throws, the old directory is untouched and the temporary one removed', async () => {
  const root = tempDir();
  const dir = join(root, 'pts');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a'), 'old a');

  assert.throws(
    () =>
      replaceDirSync(dir, (tmp) => {
        writeFileSync(join(tmp, 'a'), 'new a');
        throw new Error('fill failed');
      }),
    /fill failed/,
  );
  assert.deepEqual(readdirSync(dir), ['a']);
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'old a');
  assert.deepEqual(readdirSync(root), ['pts']);

  await assert.rejects(
    replaceDir(dir, async (tmp) => {
      writeFileSync(join(tmp, 'b'), 'new b');
      throw new Error('async fill failed');
    }),
    /async fill failed/,
  );
  assert.deepEqual(readdirSync(dir), ['a']);
  assert.deepEqual(readdirSync(root), ['pts']);

  // A directory that never existed stays absent.
  assert.throws(() =>
    replaceDirSync(join(root, 'never'), () => {
      throw new Error('no');
    }),
  );
  assert.deepEqual(readdirSync(root), ['pts']);
});

test('isTempName: our temporaries and set-aside directories, not real names', () => {
  const t = tempPathFor('/atlas/maps/pts');
  assert.ok(t.startsWith('/atlas/maps/pts.tmp-'));
  assert.ok(isTempName('pts' + t.slice('/atlas/maps/pts'.length)));
  assert.ok(tempPathFor('/x') !== tempPathFor('/x'), 'each call its own name');
  for (const name of ['pts.tmp-123', 'pts.old-123', 'pts.tmp-123-0a1b2c3d', 'labels.json.old-9-ff']) {
    assert.ok(isTempName(name), name);
  }
  for (const name of [
    'pts',
    'pts-tmp',
    'tmp-123',
    'pts.tmp',
    'pts.tmp-x',
    'v1.old-version',
    'a.tmp-12-xyz',
  ]) {
    assert.ok(!isTempName(name), name);
  }
});
