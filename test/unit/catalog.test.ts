import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openAtlas } from '../../src/atlas/atlas.js';
import { SqliteCatalog } from '../../src/catalog/sqlite.js';
import { SCHEMA_VERSION } from '../../src/catalog/schema.js';
import { AtlasError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { catalogContract } from './catalog-contract.js';

test('a new atlas has the directory layout and the current schema version, in WAL mode', async () => {
  const dir = join(tempDir(), 'atlas');
  const atlas = await openAtlas(dir, { create: true });
  const movie = await atlas.catalog.upsertMovie({ title: 'Kept' });
  for (const d of ['originals', 'stills', 'features', 'maps']) assert.ok(existsSync(join(dir, d)), d);
  const db = new Database(join(dir, 'atlas.db'), { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
  await atlas.close();
  // re-opening migrates nothing and keeps data
  const again = await openAtlas(dir);
  assert.equal((await again.catalog.movie(movie))?.title, 'Kept');
  await again.close();
  const db2 = new Database(join(dir, 'atlas.db'), { readonly: true });
  assert.equal(db2.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db2.close();
});

test('opening a missing atlas without create fails with a suggestion', async () => {
  await assert.rejects(
    () => openAtlas(join(tempDir(), 'nope')),
    (e: unknown) =>
      e instanceof AtlasError && e.code === 'ATLAS' && /no atlas at/.test(e.message) && !!e.suggestion,
  );
});

test('an atlas from a newer schema is refused, naming both versions', async () => {
  const dir = join(tempDir(), 'atlas');
  await (await openAtlas(dir, { create: true })).close();
  const db = new Database(join(dir, 'atlas.db'));
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  db.close();
  await assert.rejects(
    () => openAtlas(dir),
    (e: unknown) =>
      e instanceof AtlasError &&
      e.message.includes(String(SCHEMA_VERSION + 5)) &&
      e.message.includes(String(SCHEMA_VERSION)),
  );
});

test('a file that is not SQLite gives a clear ATLAS error', async () => {
  const dir = tempDir();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'atlas.db'), 'this is not a database, just text '.repeat(100));
  await assert.rejects(
    () => openAtlas(dir),
    (e: unknown) => e instanceof AtlasError && e.code === 'ATLAS' && e.message.includes('atlas.db'),
  );
});

catalogContract('sqlite', async () => SqliteCatalog.open(join(tempDir(), 'atlas.db')));
