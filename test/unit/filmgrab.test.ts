import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { AtlasError } from '../../src/errors.js';
import { canonicalCreditField, editDistance, normaliseCredits } from '../../src/sources/filmgrab/credits.js';
import { moviePageHtml } from '../../src/sources/filmgrab/fixture-site.js';
import { parseRetryAfter, PoliteClient, TokenBucket, USER_AGENT } from '../../src/sources/filmgrab/http.js';
import { parseIndex, parseMoviePage } from '../../src/sources/filmgrab/parse.js';
import { readZip, writeZip } from '../../src/sources/filmgrab/zip.js';

describe('credits normalisation', () => {
  test('known labels, their variants and the typos the site has map to canonical fields', () => {
    const cases: [string, string | undefined][] = [
      ['Title', 'title'],
      ['Director', 'director'],
      ['dir', 'director'],
      ['Dir.', 'director'],
      ['Directed by', 'director'],
      ['Director of Photography', 'cinematographer'],
      ['DOP', 'cinematographer'],
      ['D.O.P.', 'cinematographer'],
      ['directir of photography', 'cinematographer'],
      ['dorector of photography', 'cinematographer'],
      ['Director of Photograpy', 'cinematographer'],
      ['Cinematographer', 'cinematographer'],
      ['Production Design', 'productionDesign'],
      ['production designer', 'productionDesign'],
      ['Prodution Design', 'productionDesign'],
      ['Costume Design', 'costumeDesign'],
      ['costume designer', 'costumeDesign'],
      ['Costumes', 'costumeDesign'],
      ['Year', 'year'],
      ['Editor', undefined],
      ['Music', undefined],
      ['Writer', undefined],
      ['Producer', undefined],
    ];
    for (const [label, field] of cases) assert.equal(canonicalCreditField(label), field, label);
  });

  test('edit distance counts insertions, deletions, substitutions and swaps', () => {
    assert.equal(editDistance('director', 'director'), 0);
    assert.equal(editDistance('directir', 'director'), 1);
    assert.equal(editDistance('driector', 'director'), 1);
    assert.equal(editDistance('dirctor', 'director'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('abc', 'xyzuvw', 1), 2, 'stops early past max');
  });

  test('lines become fields; unknown labels become attributes; CSS, code and prose are rejected', () => {
    const c = normaliseCredits([
      'Title: Blade Runner',
      'Dir: Ridley Scott',
      'Dorector of Photography: Jordan Cronenweth',
      'Production designer: Lawrence G. Paull',
      'Costume Designer: Charles Knode',
      'Costume design: Michael Kaplan',
      'Editor: Terry Rawlings',
      'Year: 1982 (USA)',
      'font-family: Arial, sans-serif;',
      '.bwg_container { display: none; }',
      'color: #ffffff',
      'width: 1254px',
      'https://film-grab.com/2010/09/09/blade-runner/',
      'In the end the director said to us: it rains',
      'Just prose without a colon',
      'Director:',
      'Ridley Scott',
    ]);
    assert.equal(c.title, 'Blade Runner');
    assert.equal(c.director, 'Ridley Scott', 'a repeated value is kept once');
    assert.equal(c.cinematographer, 'Jordan Cronenweth');
    assert.equal(c.productionDesign, 'Lawrence G. Paull');
    assert.equal(c.costumeDesign, 'Charles Knode, Michael Kaplan', 'two lines of one field are joined');
    assert.equal(c.year, 1982);
    assert.deepEqual(c.attributes, { editor: 'Terry Rawlings' });
    assert.equal(c.rejected.length, 6, c.rejected.join('\n'));
    assert.ok(c.rejected.every((r) => / → /.test(r)));
    assert.ok(c.rejected.some((r) => r.startsWith('font-family') && r.includes('CSS')));
  });

  test('a year that is not a year is kept as an attribute, not guessed', () => {
    const c = normaliseCredits(['Year: unknown']);
    assert.equal(c.year, undefined);
    assert.deepEqual(c.attributes, { year: 'unknown' });
  });
});

describe('page parsing', () => {
  test('the A–Z index: links in order, resolved, each once, non-http dropped', () => {
    const html = `<ul class="display-posts-listing">
      <li><a href="/2010/09/09/blade-runner/">Blade Runner</a></li>
      <li><a href="https://film-grab.com/2011/01/01/alien/#comments"> Alien </a></li>
      <li><a href="/2010/09/09/blade-runner/">Blade Runner (dup)</a></li>
      <li><a href="mailto:someone@example.com">mail</a></li>
      </ul><ul class="other"><li><a href="/not-a-movie/">No</a></li></ul>`;
    assert.deepEqual(parseIndex(html, 'https://film-grab.com/movies-a-z/'), [
      { url: 'https://film-grab.com/2010/09/09/blade-runner/', label: 'Blade Runner' },
      { url: 'https://film-grab.com/2011/01/01/alien/', label: 'Alien' },
    ]);
  });

  test('a movie page: title without the site suffix, credits, gallery in order, zip link', () => {
    const html = moviePageHtml({
      path: '/2010/09/09/blade-runner/',
      label: 'Blade Runner',
      title: 'Blade Runner',
      credits: [
        'Title: Blade Runner',
        '<strong>Director:</strong> Ridley Scott',
        'DoP: Jordan Cronenweth',
        'Year: 1982',
      ],
      stills: [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')],
      gallery: 'both',
    });
    const p = parseMoviePage(html, 'https://film-grab.com/2010/09/09/blade-runner/');
    assert.equal(p.title, 'Blade Runner');
    assert.equal(p.credits.director, 'Ridley Scott');
    assert.equal(p.credits.cinematographer, 'Jordan Cronenweth');
    assert.equal(p.credits.year, 1982);
    assert.deepEqual(p.credits.attributes, {}, 'the gallery style block and scripts are not credits');
    assert.equal(p.images.length, 3);
    assert.match(
      p.images[0],
      /^https:\/\/film-grab\.com\/wp-content\/uploads\/photo-gallery\/blade-runner_001\.jpg\?bwg=/,
    );
    assert.ok(p.images[2].includes('_003.jpg'));
    assert.ok(!p.images.some((u) => u.includes('/thumb/')), 'thumbnails are not stills');
    assert.match(p.zip ?? '', /download_gallery/);
  });

  test('missing parts: no title, no gallery, no credits come back empty, not as errors', () => {
    const p = parseMoviePage(
      '<html><body><h1 class="entry-title">Only a heading</h1><p>words</p>',
      'https://x.org/m/',
    );
    assert.equal(p.title, undefined);
    assert.equal(p.heading, 'Only a heading');
    assert.deepEqual(p.images, []);
    assert.equal(p.zip, undefined);
    const empty = parseMoviePage('', 'https://x.org/m/');
    assert.deepEqual([empty.title, empty.images.length], [undefined, 0]);
    const titled = parseMoviePage('<title>Alien &#8211; FILMGRAB</title>', 'https://x.org/m/');
    assert.equal(titled.title, 'Alien');
  });
});

describe('gallery zips', () => {
  test('round trip, damaged entries reported, truncated archives refused', () => {
    const a = Buffer.alloc(5000, 7);
    const b = Buffer.from('not compressible?'.repeat(3));
    const zip = writeZip([
      { name: 'movie/001.jpg', data: a },
      { name: 'movie/002.jpg', data: b },
    ]);
    const r = readZip(zip);
    assert.deepEqual(
      r.entries.map((e) => [e.name, e.data.equals(e.name.endsWith('1.jpg') ? a : b)]),
      [
        ['movie/001.jpg', true],
        ['movie/002.jpg', true],
      ],
    );
    assert.deepEqual(r.errors, []);
    // flip a byte inside the first entry's data: its CRC no longer matches
    const damaged = Buffer.from(zip);
    damaged[30 + 'movie/001.jpg'.length + 2] ^= 0xff;
    const d = readZip(damaged);
    assert.equal(d.entries.length, 1);
    assert.equal(d.errors.length, 1);
    assert.match(d.errors[0].error, /CRC|inflate|invalid/i);
    assert.throws(
      () => readZip(zip.subarray(0, zip.length >> 1)),
      (e: unknown) => e instanceof AtlasError && /not a readable zip/.test(e.message),
    );
  });
});

describe('polite HTTP client', () => {
  test('Retry-After as seconds or a date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString(), Date.now()) !== undefined, true);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter(' 120 '), 120_000);
    assert.equal(parseRetryAfter('0'), 0);
  });

  test('a Retry-After date is the delay from the clock to that date, never negative', () => {
    const date = 'Wed, 21 Oct 2015 07:28:00 GMT';
    const at = Date.UTC(2015, 9, 21, 7, 28, 0);
    assert.equal(parseRetryAfter(date, at - 5000), 5000);
    assert.equal(parseRetryAfter(date, at - 90_500), 90_500);
    assert.equal(parseRetryAfter(date, at), 0);
    assert.equal(parseRetryAfter(date, at + 1000), 0, 'a date already past: no wait');
    // By default from now: HTTP dates are whole seconds, so a date made 5 s ahead waits 4–5 s.
    const ahead = parseRetryAfter(new Date(Date.now() + 5000).toUTCString());
    assert.ok(ahead !== undefined && ahead > 3750 && ahead <= 5000, `waits ${ahead} ms`);
  });

  test('the token bucket spaces takes by at least 1/rate', async () => {
    const bucket = new TokenBucket(50);
    const at: number[] = [];
    for (let i = 0; i < 6; i++) {
      await bucket.take();
      at.push(performance.now());
    }
    for (let i = 1; i < at.length; i++)
      assert.ok(at[i] - at[i - 1] >= 19, `gap ${i}: ${(at[i] - at[i - 1]).toFixed(1)} ms`);
  });

  test('an aborted wait rejects and frees the bucket for the next caller', { timeout: 10_000 }, async () => {
    const bucket = new TokenBucket(0.5);
    await bucket.take();
    const ac = new AbortController();
    const waiting = bucket.take(ac.signal);
    ac.abort();
    await assert.rejects(waiting);
    // a stuck chain would never resolve: the test's timeout catches it
    bucket.setRate(1000);
    await bucket.take();
  });

  test('sends the identifying User-Agent, follows redirects, gives up with a NETWORK error', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers['user-agent']}`);
      if (req.url === '/moved') {
        res.writeHead(301, { location: '/here' });
        res.end();
      } else if (req.url === '/here') res.end('ok');
      else {
        res.writeHead(503);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new PoliteClient({ rate: 200, attempts: 3, retryDelayMs: 5 });
    try {
      const r = await client.get(`${base}/moved`);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'ok');
      assert.equal(r.url, `${base}/here`);
      assert.match(USER_AGENT, /^filmatlas\/\S+ \(\+https:\/\/\S+\)$/);
      assert.ok(seen.every((s) => s.endsWith(USER_AGENT)));
      await assert.rejects(
        client.get(`${base}/down`),
        (e: unknown) =>
          e instanceof AtlasError && e.code === 'NETWORK' && /after 3 attempts: HTTP 503/.test(e.message),
      );
      assert.equal(client.stats.retries, 2);
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('the client waits out a Retry-After date, and fails at once on one past maxRetryAfterS', async () => {
    const seen: { url: string; at: number }[] = [];
    let answered = 0;
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', at: performance.now() });
      const ahead = req.url === '/later' ? 2000 : 30_000;
      if (req.url === '/later' && answered++ > 0) {
        res.end('ok');
        return;
      }
      res.writeHead(429, { 'retry-after': new Date(Date.now() + ahead).toUTCString() });
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Backoff of a few ms: any longer wait is the server's Retry-After.
    const client = new PoliteClient({ rate: 200, attempts: 3, retryDelayMs: 5, maxRetryAfterS: 10 });
    try {
      const r = await client.get(`${base}/later`);
      assert.equal(r.body.toString(), 'ok');
      assert.equal(seen.length, 2);
      // The date is 2 s ahead, in whole seconds: a wait of 1–2 s (plus a loaded machine's delay).
      const waited = seen[1].at - seen[0].at;
      assert.ok(waited >= 990 && waited < 4000, `retried after ${waited.toFixed(0)} ms`);
      assert.equal(client.stats.retries, 1);

      seen.length = 0;
      await assert.rejects(
        client.get(`${base}/much-later`),
        (e: unknown) =>
          e instanceof AtlasError &&
          e.code === 'NETWORK' &&
          /asks to wait (29|30) s \(Retry-After\), more than the 10 s allowed/.test(e.message),
      );
      assert.equal(seen.length, 1, 'not retried');
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
