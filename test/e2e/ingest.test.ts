import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { writeHostileFiles } from '../../src/sources/hostile.js';
import { cli, filesUnder, resultOf } from '../helpers/cli.js';
import { CLI, tempDir } from '../helpers/tmp.js';

function dbCounts(atlas: string): {
  stills: number;
  ready: number;
  distinctSources: number;
  integrity: string;
} {
  const db = new Database(join(atlas, 'atlas.db'), { readonly: true });
  const stills = db.prepare('SELECT count(*) FROM stills').pluck().get() as number;
  const ready = db.prepare("SELECT count(*) FROM stills WHERE status = 'ready'").pluck().get() as number;
  const distinctSources = db.prepare('SELECT count(DISTINCT source) FROM stills').pluck().get() as number;
  const integrity = db.pragma('integrity_check', { simple: true }) as string;
  db.close();
  return { stills, ready, distinctSources, integrity };
}

test('sample → ingest → status: every hostile file is recorded with its reason, the rest standardised', async () => {
  const dir = tempDir();
  const src = join(dir, 'stills');
  const atlas = join(dir, 'atlas');
  const sample = await cli([
    'sample',
    src,
    '--movies',
    '4',
    '--stills',
    '5',
    '--width',
    '200',
    '--with-bad-files',
    '--json',
  ]);
  assert.equal(sample.code, 0, sample.stderr);
  const hostile = await writeHostileFiles(join(dir, 'expected')); // same cases, to know what to expect
  const accepted = hostile.filter((h) => h.accepted).length;
  const rejectedCases = hostile.filter((h) => !h.accepted);

  const ingest = await cli(['ingest', src, '--atlas', atlas, '--json']);
  assert.equal(ingest.code, 0, ingest.stderr);
  const r = resultOf(ingest);
  assert.equal(r.movies, 5);
  assert.equal(r.ready, 20 + accepted);
  assert.equal(r.rejected, rejectedCases.length);
  assert.ok(
    ingest.lines.some((l) => l.event === 'progress'),
    'progress lines under --json',
  );

  const status = await cli(['status', '--atlas', atlas, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout) as {
    movies: number;
    stills: number;
    standardised: number;
    rejected: { file: string; reason: string }[];
  };
  assert.equal(s.movies, 5);
  assert.equal(s.stills, 20 + hostile.length);
  assert.equal(s.standardised, 20 + accepted);
  for (const c of rejectedCases) {
    const hit = s.rejected.find((x) => x.file.endsWith(`/${c.file.split('/').pop()}`));
    assert.ok(hit, `rejected file ${c.file} (${c.what}) is listed`);
    if (c.reason) assert.match(hit.reason, c.reason, `reason for ${c.what}`);
  }
  // every standardised still is in the store exactly once; no temp leftovers
  const db = new Database(join(atlas, 'atlas.db'), { readonly: true });
  const shas = db
    .prepare("SELECT DISTINCT std_sha256 FROM stills WHERE status = 'ready'")
    .pluck()
    .all() as string[];
  db.close();
  assert.equal(filesUnder(join(atlas, 'stills')).length, shas.length);
  assert.equal(filesUnder(join(atlas, '.tmp')).length, 0);

  // the human status names the rejected files too
  const human = await cli(['status', '--atlas', atlas]);
  assert.match(human.stdout, /rejected files:/);
  assert.match(human.stdout, /empty file|0 bytes/);

  // re-running adds nothing
  const again = resultOf(await cli(['ingest', src, '--atlas', atlas, '--json']));
  assert.equal(again.added, 0);
  assert.equal(again.processed, 0);

  // a new still in a movie folder is the only thing added
  const movieDir = readdirSync(src, { withFileTypes: true }).find(
    (e) => e.isDirectory() && !e.name.startsWith('Hostile'),
  )!;
  const first = readdirSync(join(src, movieDir.name)).sort()[0];
  copyFileSync(
    join(src, movieDir.name, first),
    join(src, movieDir.name, '9999-extra' + first.slice(first.lastIndexOf('.'))),
  );
  const more = resultOf(await cli(['ingest', src, '--atlas', atlas, '--json']));
  assert.equal(more.added, 1);
  assert.equal(more.ready, 1);
});

test('wrong arguments fail with a message naming the option and value', async () => {
  const dir = tempDir();
  const r = await cli(['sample', join(dir, 's'), '--movies', 'spoons']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--movies/);
  assert.match(r.stderr, /spoons/);
  const fam = await cli(['sample', join(dir, 's'), '--families', 'noir,plaid']);
  assert.equal(fam.code, 2);
  assert.match(fam.stderr, /unknown look family 'plaid'/);
  const fit = await cli(['ingest', dir, '--atlas', join(dir, 'a'), '--fit', 'squash']);
  assert.equal(fit.code, 2);
  assert.match(fit.stderr, /--fit/);
  const missing = await cli(['status', '--atlas', join(dir, 'nothing-here')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no atlas at/);
});

test('an ingest killed with SIGKILL mid-run resumes without duplicates or half-written files', async () => {
  const dir = tempDir();
  const src = join(dir, 'stills');
  const atlas = join(dir, 'atlas');
  assert.equal((await cli(['sample', src, '--movies', '6', '--stills', '50', '--width', '640'])).code, 0);
  const total = 300;
  const child = spawn(
    process.execPath,
    [CLI, 'ingest', src, '--atlas', atlas, '--concurrency', '1', '--json'],
    {
      stdio: 'ignore',
    },
  );
  // kill once some stills are committed but well before the end
  const dbPath = join(atlas, 'atlas.db');
  let ready = 0;
  for (let i = 0; i < 600 && ready === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(dbPath)) continue;
    try {
      ready = dbCounts(atlas).ready;
    } catch {
      // the schema may not exist yet
    }
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const mid = dbCounts(atlas);
  assert.equal(mid.integrity, 'ok');
  assert.ok(mid.ready > 0 && mid.ready < total, `killed mid-run (ready ${mid.ready} of ${total})`);

  const resumed = resultOf(await cli(['ingest', src, '--atlas', atlas, '--json']));
  assert.equal(resumed.added, 0, 'nothing registered twice');
  assert.equal(resumed.processed, total - mid.ready, 'only what was left is processed');
  const end = dbCounts(atlas);
  assert.deepEqual([end.stills, end.ready, end.distinctSources], [total, total, total]);
  assert.equal(filesUnder(join(atlas, '.tmp')).length, 0, 'temp files of the killed run are cleared');
  // every stored still decodes (nothing half-written at a final path)
  const sharp = (await import('sharp')).default;
  for (const f of filesUnder(join(atlas, 'stills'))) {
    const m = await sharp(f).metadata();
    assert.deepEqual([m.width, m.height], [224, 126], f);
  }
});

test('SIGINT stops after the stills in flight, records the run as aborted, and a re-run completes', async () => {
  const dir = tempDir();
  const src = join(dir, 'stills');
  const atlas = join(dir, 'atlas');
  assert.equal((await cli(['sample', src, '--movies', '4', '--stills', '50', '--width', '640'])).code, 0);
  const child = spawn(
    process.execPath,
    [CLI, 'ingest', src, '--atlas', atlas, '--concurrency', '1', '--json'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let interrupted = false;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    // One Ctrl-C: a second one after the run has stopped would meet the default handler.
    if (!interrupted && /"done":[1-9]/.test(out)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 130, out);
  assert.match(out, /"code":"ABORTED"/);
  const db = new Database(join(atlas, 'atlas.db'), { readonly: true });
  const run = db.prepare("SELECT status FROM runs WHERE stage = 'ingest' ORDER BY id DESC").pluck().get();
  db.close();
  assert.equal(run, 'aborted');
  const again = resultOf(await cli(['ingest', src, '--atlas', atlas, '--json']));
  assert.equal(again.added, 0);
  const end = dbCounts(atlas);
  assert.deepEqual([end.stills, end.ready], [200, 200]);
});

test('two processes ingesting into one atlas at once do not corrupt or duplicate it', async () => {
  const dir = tempDir();
  const src = join(dir, 'stills');
  const atlas = join(dir, 'atlas');
  assert.equal((await cli(['sample', src, '--movies', '6', '--stills', '20', '--width', '320'])).code, 0);
  const [a, b] = await Promise.all([
    cli(['ingest', src, '--atlas', atlas, '--json']),
    cli(['ingest', src, '--atlas', atlas, '--json']),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const end = dbCounts(atlas);
  assert.equal(end.integrity, 'ok');
  assert.deepEqual([end.stills, end.ready, end.distinctSources], [120, 120, 120]);
  const db = new Database(join(atlas, 'atlas.db'), { readonly: true });
  assert.equal(db.prepare('SELECT count(*) FROM movies').pluck().get(), 6);
  db.close();
});
