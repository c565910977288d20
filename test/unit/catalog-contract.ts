/**
 * The `Catalog` contract as tests: every implementation (SQLite here; PostgreSQL in a
 * shared deployment) runs this same suite through `catalogContract(name, open)`,
 * where `open` gives a fresh, empty catalogue.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { movieSlug, type Catalog, type StillUpdate } from '../../src/catalog/catalog.js';
import { recordRun } from '../../src/catalog/runs.js';
import { AtlasError } from '../../src/errors.js';

const ready = (id: number, sha: string): StillUpdate => ({
  id,
  status: 'ready',
  originalSha256: `o-${sha}`,
  originalExt: 'jpg',
  originalBytes: 10,
  originalFormat: 'jpeg',
  width: 4,
  height: 3,
  stdSha256: `s-${sha}`,
});

export function catalogContract(name: string, open: () => Promise<Catalog>): void {
  const withCatalog = (title: string, fn: (cat: Catalog) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => {
      const cat = await open();
      try {
        await fn(cat);
      } finally {
        await cat.close();
      }
    });
  };

  withCatalog('meta values are stored, replaced and missing keys are undefined', async (cat) => {
    assert.equal(await cat.getMeta('store.url'), undefined);
    await cat.setMeta('store.url', 's3://a/b');
    await cat.setMeta('store.url', 's3://c/d');
    assert.equal(await cat.getMeta('store.url'), 's3://c/d');
  });

  withCatalog('movies upsert by slug and never lose known metadata', async (cat) => {
    const id = await cat.upsertMovie({
      title: 'The Long Night',
      year: 1999,
      director: 'A. Person',
      attributes: { family: 'noir' },
    });
    const id2 = await cat.upsertMovie({
      title: 'The Long Night',
      year: 1999,
      cinematographer: 'B. Eye',
      attributes: { genre: 'drama' },
    });
    assert.equal(id, id2);
    const m = (await cat.movie(id))!;
    assert.equal(m.director, 'A. Person');
    assert.equal(m.cinematographer, 'B. Eye');
    assert.deepEqual(m.attributes, { family: 'noir', genre: 'drama' });
    assert.equal(m.slug, 'the-long-night-1999');
    assert.equal(movieSlug('Amélie', 2001), 'amelie-2001');
    assert.equal(movieSlug('???'), 'untitled');
    const other = await cat.upsertMovie({ title: 'The Long Night' }); // no year: another movie
    assert.notEqual(other, id);
    assert.deepEqual(
      (await cat.movies()).map((x) => x.id),
      [id, other],
    );
    assert.equal(await cat.movie(9999), undefined);
  });

  withCatalog('addStills adds only new sources and re-orders known ones by the new listing', async (cat) => {
    const m = await cat.upsertMovie({ title: 'X' });
    assert.equal(await cat.addStills(m, ['/a/1.jpg', '/a/3.jpg']), 2);
    assert.equal(await cat.addStills(m, ['/a/1.jpg', '/a/2.jpg', '/a/3.jpg']), 1);
    const rows = (await cat.pendingStills()).map((s) => [s.source, s.ordinal]);
    assert.deepEqual(rows, [
      ['/a/1.jpg', 0],
      ['/a/3.jpg', 2],
      ['/a/2.jpg', 1],
    ]);
    assert.equal((await cat.counts()).stills, 3);
  });

  withCatalog('registerMovies upserts many movies and their stills at once', async (cat) => {
    const r = await cat.registerMovies([
      { spec: { title: 'A', year: 2000 }, sources: ['/a/1.png', '/a/2.png'] },
      { spec: { title: 'B' }, sources: ['/b/1.png'] },
    ]);
    assert.equal(r.added, 3);
    assert.equal(r.movieIds.length, 2);
    const again = await cat.registerMovies([
      { spec: { title: 'A', year: 2000, director: 'D' }, sources: ['/a/1.png', '/a/3.png'] },
    ]);
    assert.deepEqual(again, { movieIds: [r.movieIds[0]], added: 1 });
    assert.equal((await cat.movie(r.movieIds[0]))!.director, 'D');
    const refs = await cat.stillRefs();
    assert.deepEqual(
      refs.map((s) => [s.movieId, s.ordinal]),
      [
        [r.movieIds[0], 0],
        [r.movieIds[0], 1],
        [r.movieIds[1], 0],
        [r.movieIds[0], 1],
      ],
    );
    assert.deepEqual(
      refs.map((s) => s.id),
      [...refs.map((s) => s.id)].sort((a, b) => a - b),
      'stillRefs are in id order',
    );
  });

  withCatalog(
    'updates mark stills ready or rejected, and rejected ones are listed with their reason',
    async (cat) => {
      const m = await cat.upsertMovie({ title: 'Y', year: 2001 });
      await cat.addStills(m, ['/y/1.jpg', '/y/2.jpg']);
      const [a, b] = await cat.pendingStills();
      assert.equal(await cat.hasOriginals(), false);
      await cat.applyUpdates([
        ready(a.id, 'aa'),
        { id: b.id, status: 'rejected', errorCode: 'BAD_IMAGE', error: 'empty file (0 bytes)' },
      ]);
      assert.equal(await cat.hasOriginals(), true);
      assert.deepEqual(await cat.counts(), { movies: 1, stills: 2, pending: 0, ready: 1, rejected: 1 });
      assert.deepEqual(
        (await cat.rejectedStills()).map((r) => [r.id, r.source, r.code, r.reason, r.movie]),
        [[b.id, '/y/2.jpg', 'BAD_IMAGE', 'empty file (0 bytes)', 'Y (2001)']],
      );
      const s = (await cat.still(a.id))!;
      assert.equal(s.status, 'ready');
      assert.equal(s.stdSha256, 's-aa');
      assert.equal(s.width, 4);
      assert.equal((await cat.stillBySource('/y/1.jpg'))?.id, a.id);
      assert.equal((await cat.stillByOriginal('o-aa'))?.id, a.id);
      assert.equal(await cat.stillByOriginal('nope'), undefined);
      assert.deepEqual(
        (await cat.stills('ready')).map((x) => x.id),
        [a.id],
      );
      assert.deepEqual(
        (await cat.stills()).map((x) => x.id),
        [a.id],
        'the default status is ready',
      );
      assert.equal(await cat.resetStills('rejected'), 1);
      assert.equal((await cat.counts()).pending, 1);
      assert.equal(await cat.resetStills('all'), 2);
      assert.equal((await cat.still(a.id))!.stdSha256, null);
    },
  );

  withCatalog('stills are listed by movie, then film order', async (cat) => {
    const m1 = await cat.upsertMovie({ title: 'M1' });
    const m2 = await cat.upsertMovie({ title: 'M2' });
    await cat.addStills(m2, ['/m2/a', '/m2/b']);
    await cat.addStills(m1, ['/m1/b', '/m1/a']);
    await cat.applyUpdates((await cat.pendingStills()).map((s) => ready(s.id, String(s.id))));
    assert.deepEqual(
      (await cat.stills('ready')).map((s) => s.source),
      ['/m1/b', '/m1/a', '/m2/a', '/m2/b'],
    );
  });

  withCatalog(
    'a stored still is added once, re-ordered when listed again, and re-standardised when its bytes change',
    async (cat) => {
      const m = await cat.upsertMovie({ title: 'V' });
      const first = await cat.addStoredStill(m, 1000, 'v.mp4#t=1', { sha256: 'o-x', ext: 'jpg', bytes: 10 });
      assert.equal(first.added, true);
      await cat.applyUpdates([ready(first.id, 'x')]); // the same original: o-x.jpg
      const same = await cat.addStoredStill(m, 2000, 'v.mp4#t=1', { sha256: 'o-x', ext: 'jpg', bytes: 10 });
      assert.deepEqual(same, { id: first.id, added: false });
      assert.equal((await cat.still(first.id))!.ordinal, 2000);
      assert.equal((await cat.still(first.id))!.status, 'ready', 'unchanged bytes keep the still ready');
      await cat.addStoredStill(m, 2000, 'v.mp4#t=1', { sha256: 'x2', ext: 'jpg', bytes: 6 });
      const changed = (await cat.still(first.id))!;
      assert.equal(changed.status, 'pending');
      assert.equal(changed.originalSha256, 'x2');
      assert.equal(changed.stdSha256, null);
    },
  );

  withCatalog(
    'failed downloads are recorded, never over a fetched still, and can be forgotten',
    async (cat) => {
      const m = await cat.upsertMovie({ title: 'F' });
      const id = await cat.addFailedStill(m, 0, 'http://x/1.jpg', 'NETWORK', 'HTTP 500');
      assert.equal((await cat.still(id))!.status, 'rejected');
      assert.equal((await cat.rejectedStills())[0].reason, 'HTTP 500');
      const again = await cat.addFailedStill(m, 0, 'http://x/1.jpg', 'NETWORK', 'HTTP 503');
      assert.equal(again, id);
      assert.equal((await cat.still(id))!.error, 'HTTP 503');
      const stored = await cat.addStoredStill(m, 1, 'http://x/2.jpg', { sha256: 'y', ext: 'jpg', bytes: 3 });
      assert.equal(await cat.addFailedStill(m, 1, 'http://x/2.jpg', 'NETWORK', 'late failure'), stored.id);
      assert.equal(
        (await cat.still(stored.id))!.status,
        'pending',
        'a still with its original is left alone',
      );
      assert.equal(await cat.removeUnfetchedStill('http://x/2.jpg'), false);
      assert.equal(await cat.removeUnfetchedStill('http://x/1.jpg'), true);
      assert.equal(await cat.still(id), undefined);
    },
  );

  withCatalog('runs record their stage, status and counts, newest first', async (cat) => {
    const a = await cat.startRun('ingest', { sources: ['x'] });
    await cat.finishRun(a, 'done', { added: 3 });
    const b = await cat.startRun('embed', {});
    const runs = await cat.runs(5);
    assert.deepEqual(
      runs.map((r) => [r.id, r.stage, r.status]),
      [
        [b, 'embed', 'running'],
        [a, 'ingest', 'done'],
      ],
    );
    assert.deepEqual(runs[1].counts, { added: 3 });
    assert.ok(runs[1].finishedAt !== null && runs[0].finishedAt === null);
    assert.equal((await cat.runs(1)).length, 1);
  });

  withCatalog('recordRun marks a run done, failed or aborted with its counts', async (cat) => {
    assert.equal(await recordRun(cat, 'ok', {}, async () => ({ n: 2 })).then((r) => r.n), 2);
    await assert.rejects(
      recordRun(cat, 'boom', {}, async () => {
        throw new Error('disk full');
      }),
      /disk full/,
    );
    let tally = 0;
    await assert.rejects(
      recordRun(
        cat,
        'stop',
        {},
        async () => {
          tally = 7;
          throw new AtlasError('ABORTED', 'cancelled');
        },
        { counts: () => ({ tally }) },
      ),
      AtlasError,
    );
    const runs = await cat.runs(3);
    assert.deepEqual(
      runs.map((r) => [r.stage, r.status, r.counts]),
      [
        ['stop', 'aborted', { tally: 7 }],
        ['boom', 'failed', {}],
        ['ok', 'done', { n: 2 }],
      ],
    );
  });

  withCatalog(
    'embed errors are recorded per model, replaced, cleared and listed with the source',
    async (cat) => {
      const m = await cat.upsertMovie({ title: 'E' });
      await cat.addStills(m, ['/e/1', '/e/2']);
      const [s1, s2] = await cat.pendingStills();
      await cat.recordEmbedErrors('vgg16', [
        { stillId: s1.id, error: 'bad' },
        { stillId: s2.id, error: 'worse' },
      ]);
      await cat.recordEmbedErrors('color', [{ stillId: s1.id, error: 'odd' }]);
      await cat.recordEmbedErrors('vgg16', [{ stillId: s1.id, error: 'bad again' }]);
      assert.deepEqual(
        (await cat.embedErrors('vgg16')).map((e) => [e.stillId, e.source, e.error]),
        [
          [s1.id, '/e/1', 'bad again'],
          [s2.id, '/e/2', 'worse'],
        ],
      );
      await cat.clearEmbedErrors('vgg16', [s2.id]);
      assert.deepEqual(
        (await cat.embedErrors()).map((e) => [e.model, e.stillId]),
        [
          ['color', s1.id],
          ['vgg16', s1.id],
        ],
      );
    },
  );

  withCatalog(
    'crawl rows keep fields left undefined, clear fields set to null, and list in index order',
    async (cat) => {
      await cat.saveCrawlPage({
        url: 'u1',
        site: 's',
        kind: 'movie',
        label: 'One',
        position: 1,
        etag: '"e1"',
      });
      await cat.saveCrawlPage({ url: 'u0', site: 's', kind: 'movie', label: 'Zero', position: 0 });
      await cat.saveCrawlPage({ url: 'u9', site: 's', kind: 'movie', label: 'Gone' });
      await cat.saveCrawlPage({
        url: 'u1',
        site: 's',
        kind: 'movie',
        status: 'done',
        etag: undefined,
        label: null,
      });
      const u1 = (await cat.crawlPage('u1'))!;
      assert.equal(u1.status, 'done');
      assert.equal(u1.etag, '"e1"', 'undefined keeps the stored value');
      assert.equal(u1.label, null, 'null clears it');
      assert.equal(u1.position, 1);
      assert.deepEqual(
        (await cat.crawlPages('s', 'movie')).map((r) => r.url),
        ['u0', 'u1', 'u9'],
      );
      assert.equal(await cat.crawlPage('nope'), undefined);
      await cat.replaceCrawlListing('s', 'movie', [
        { url: 'u9', site: 's', kind: 'movie', position: 0 },
        { url: 'u2', site: 's', kind: 'movie', label: 'Two', position: 1 },
      ]);
      const rows = await cat.crawlPages('s', 'movie');
      assert.deepEqual(
        rows.map((r) => [r.url, r.position]),
        [
          ['u9', 0],
          ['u2', 1],
          ['u0', null],
          ['u1', null],
        ],
      );
      assert.equal(
        rows.find((r) => r.url === 'u1')!.status,
        'done',
        'a row gone from the listing keeps its state',
      );
      assert.equal(rows.find((r) => r.url === 'u9')!.label, 'Gone');
    },
  );
}
