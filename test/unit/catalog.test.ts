import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openAtlas } from '../../src/atlas/atlas.js';
import { Catalog, movieSlug } from '../../src/catalog/catalog.js';
import { SCHEMA_VERSION } from '../../src/catalog/schema.js';
import { AtlasError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';

test('a new atlas has the directory layout and the current schema version, in WAL mode', () => {
  const dir = join(tempDir(), 'atlas');
  const atlas = openAtlas(dir, { create: true });
  const version = atlas.catalog.db.pragma('user_version', { simple: true });
  assert.equal(version, SCHEMA_VERSION);
  assert.equal(atlas.catalog.db.pragma('journal_mode', { simple: true }), 'wal');
  atlas.close();
  // re-opening migrates nothing and keeps data
  const again = openAtlas(dir);
  assert.equal(again.catalog.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  again.close();
});

test('opening a missing atlas without create fails with a suggestion', () => {
  assert.throws(
    () => openAtlas(join(tempDir(), 'nope')),
    (e: unknown) => e instanceof AtlasError && e.code === 'ATLAS' && /no atlas at/.test(e.message) && !!e.suggestion,
  );
});

test('an atlas from a newer schema is refused, naming both versions', () => {
  const dir = join(tempDir(), 'atlas');
  openAtlas(dir, { create: true }).close();
  const db = new Database(join(dir, 'atlas.db'));
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  db.close();
  assert.throws(
    () => openAtlas(dir),
    (e: unknown) =>
      e instanceof AtlasError && e.message.includes(String(SCHEMA_VERSION + 5)) && e.message.includes(String(SCHEMA_VERSION)),
  );
});

test('a file that is not SQLite gives a clear ATLAS error', async () => {
  const dir = tempDir();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'atlas.db'), 'this is not a database, just text '.repeat(100));
  assert.throws(
    () => openAtlas(dir),
    (e: unknown) => e instanceof AtlasError && e.code === 'ATLAS' && e.message.includes('atlas.db'),
  );
});

test('movies upsert by slug and never lose known metadata', () => {
  const cat = Catalog.open(join(tempDir(), 'a.db'));
  const id = cat.upsertMovie({ title: 'The Long Night', year: 1999, director: 'A. Person', attributes: { family: 'noir' } });
  const id2 = cat.upsertMovie({ title: 'The Long Night', year: 1999, cinematographer: 'B. Eye', attributes: { genre: 'drama' } });
  assert.equal(id, id2);
  const m = cat.movie(id)!;
  assert.equal(m.director, 'A. Person');
  assert.equal(m.cinematographer, 'B. Eye');
  assert.deepEqual(m.attributes, { family: 'noir', genre: 'drama' });
  assert.equal(m.slug, 'the-long-night-1999');
  assert.equal(movieSlug('Amélie', 2001), 'amelie-2001');
  assert.equal(movieSlug('???'), 'untitled');
  cat.close();
});

test('addStills adds only new sources and re-orders known ones by the new listing', () => {
  const cat = Catalog.open(join(tempDir(), 'a.db'));
  const m = cat.upsertMovie({ title: 'X' });
  assert.equal(cat.addStills(m, ['/a/1.jpg', '/a/3.jpg']), 2);
  assert.equal(cat.addStills(m, ['/a/1.jpg', '/a/2.jpg', '/a/3.jpg']), 1);
  const rows = cat.pendingStills().map((s) => [s.source, s.ordinal]);
  assert.deepEqual(rows, [
    ['/a/1.jpg', 0],
    ['/a/3.jpg', 2],
    ['/a/2.jpg', 1],
  ]);
  assert.equal(cat.counts().stills, 3);
  cat.close();
});

test('updates mark stills ready or rejected, and rejected ones are listed with their reason', () => {
  const cat = Catalog.open(join(tempDir(), 'a.db'));
  const m = cat.upsertMovie({ title: 'Y', year: 2001 });
  cat.addStills(m, ['/y/1.jpg', '/y/2.jpg']);
  const [a, b] = cat.pendingStills();
  cat.applyUpdates([
    { id: a.id, status: 'ready', originalSha256: 'aa', originalExt: 'jpg', originalBytes: 10, originalFormat: 'jpeg', width: 4, height: 3, stdSha256: 'bb' },
    { id: b.id, status: 'rejected', errorCode: 'BAD_IMAGE', error: 'empty file (0 bytes)' },
  ]);
  assert.deepEqual(cat.counts(), { movies: 1, stills: 2, pending: 0, ready: 1, rejected: 1 });
  assert.deepEqual(cat.rejectedStills().map((r) => [r.source, r.reason, r.movie]), [['/y/2.jpg', 'empty file (0 bytes)', 'Y (2001)']]);
  assert.equal(cat.resetStills('rejected'), 1);
  assert.equal(cat.counts().pending, 1);
  cat.close();
});
