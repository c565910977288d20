import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AtlasError } from '../../src/errors.js';
import { naturalCompare, parseMovieFolderName, scanSources } from '../../src/sources/scan.js';
import { tempDir } from '../helpers/tmp.js';

function touch(path: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'x');
}

test('movie folder names give title and year', () => {
  assert.deepEqual(parseMovieFolderName('The Long Night (1999)'), { title: 'The Long Night', year: 1999 });
  assert.deepEqual(parseMovieFolderName('2001: A Space Odyssey (1968)'), {
    title: '2001: A Space Odyssey',
    year: 1968,
  });
  assert.deepEqual(parseMovieFolderName('Untitled'), { title: 'Untitled' });
});

test('natural sort orders still-2 before still-10', () => {
  assert.deepEqual(['s10.jpg', 's2.jpg', 'S1.jpg'].sort(naturalCompare), ['S1.jpg', 's2.jpg', 's10.jpg']);
});

test('a folder of movie folders: one movie each, stills in natural order, non-stills ignored', async () => {
  const dir = tempDir();
  for (const f of ['still-10.jpg', 'still-2.png', 'still-1.JPG', 'notes.txt', '.DS_Store'])
    touch(join(dir, 'Heat (1995)', f));
  touch(join(dir, 'Alien (1979)', 'a.webp'));
  mkdirSync(join(dir, 'Empty (2000)'));
  const plan = await scanSources([dir]);
  const heat = plan.movies.find((m) => m.spec.title === 'Heat')!;
  assert.equal(heat.spec.year, 1995);
  assert.deepEqual(
    heat.files.map((f) => f.slice(dir.length + 1)),
    ['Heat (1995)/still-1.JPG', 'Heat (1995)/still-2.png', 'Heat (1995)/still-10.jpg'],
  );
  assert.equal(plan.movies.length, 3);
  assert.ok(plan.warnings.some((w) => w.includes('Empty (2000)')));
});

test('a movies.csv manifest gives metadata, aliases, free attributes and file lists', async () => {
  const dir = tempDir();
  touch(join(dir, 'heat', 'b.jpg'));
  touch(join(dir, 'heat', 'a.jpg'));
  touch(join(dir, 'x', '2.jpg'));
  touch(join(dir, 'x', '1.jpg'));
  writeFileSync(
    join(dir, 'movies.csv'),
    'Title,Year,Director,DoP,Costume Designer,family,folder,files\n' +
      'Heat,1995,Michael Mann,Dante Spinotti,,crime,heat,\n' +
      '"Crouching Tiger, Hidden Dragon",2000,Ang Lee,Peter Pau,Tim Yip,wuxia,,x/2.jpg;x/1.jpg\n',
  );
  const plan = await scanSources([dir]);
  assert.equal(plan.movies.length, 2);
  const [heat, tiger] = plan.movies;
  assert.equal(heat.spec.cinematographer, 'Dante Spinotti');
  assert.deepEqual(heat.spec.attributes, { family: 'crime' });
  assert.deepEqual(
    heat.files.map((f) => f.slice(dir.length + 1)),
    ['heat/a.jpg', 'heat/b.jpg'],
  );
  assert.equal(tiger.spec.title, 'Crouching Tiger, Hidden Dragon');
  assert.equal(tiger.spec.costumeDesign, 'Tim Yip');
  // manifest order is film order
  assert.deepEqual(
    tiger.files.map((f) => f.slice(dir.length + 1)),
    ['x/2.jpg', 'x/1.jpg'],
  );
});

test('a movies.json manifest works; a missing folder is a warning, not a failure', async () => {
  const dir = tempDir();
  touch(join(dir, 'Heat (1995)', '1.jpg'));
  writeFileSync(
    join(dir, 'movies.json'),
    JSON.stringify({
      movies: [
        { title: 'Heat', year: 1995, productionDesign: 'Neil Spisak' },
        { title: 'Gone', year: 1990 },
      ],
    }),
  );
  const plan = await scanSources([join(dir, 'movies.json')]);
  assert.equal(plan.movies[0].spec.productionDesign, 'Neil Spisak');
  assert.equal(plan.movies[0].files.length, 1);
  assert.equal(plan.movies[1].files.length, 0);
  assert.ok(plan.warnings.some((w) => w.includes('Gone (1990)')));
});

test('malformed manifests fail with BAD_MANIFEST naming the file and the problem', async () => {
  const dir = tempDir();
  const cases: [string, string, RegExp][] = [
    ['movies.json', '{not json', /not valid JSON/],
    ['movies.json', '{"films": []}', /must be an array/],
    ['movies.csv', 'name,year\nHeat,1995\n', /no 'title' column/],
    ['movies.csv', 'title,year\nHeat,nineteen\n', /line 2: year must be/],
    ['movies.csv', 'title,year\nHeat,1995,extra,fields\n', /line 2: 4 fields/],
  ];
  for (const [name, body, re] of cases) {
    const d = join(dir, String(Math.random()).slice(2));
    mkdirSync(d);
    writeFileSync(join(d, name), body);
    await assert.rejects(scanSources([d]), (e: unknown) => {
      assert.ok(e instanceof AtlasError, String(e));
      assert.equal(e.code, 'BAD_MANIFEST');
      assert.match(e.message, re);
      assert.ok(e.message.includes(name));
      return true;
    });
  }
});

test('a missing source is NOT_FOUND naming the path', async () => {
  await assert.rejects(
    scanSources(['/no/such/place']),
    (e: unknown) => e instanceof AtlasError && e.code === 'NOT_FOUND' && e.message.includes('/no/such/place'),
  );
});
