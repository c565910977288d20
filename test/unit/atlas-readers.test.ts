/**
 * The readers of atlas artefacts in src/atlas/: clusterings (both stored forms),
 * palette sets, layouts and standardised stills, on hand-made atlas directories.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import {
  listClusterings,
  readClusterLabels,
  readClusters,
  readClusterSummary,
  writeClusters,
  type StoredClustering,
} from '../../src/atlas/clusters.js';
import { listLayouts, readLayout, writeLayout } from '../../src/atlas/layouts.js';
import { readPaletteSet, stillPaletteOf, writePaletteSet } from '../../src/atlas/palettes.js';
import { atlasPaths } from '../../src/atlas/paths.js';
import {
  readStill,
  readStillScaled,
  stillPictures,
  STILL_HEIGHT,
  STILL_WIDTH,
} from '../../src/atlas/stills.js';
import { AtlasError } from '../../src/errors.js';
import { LocalBlobStore } from '../../src/store/blobs.js';
import { tempDir } from '../helpers/tmp.js';

function isError(code: string, message: RegExp) {
  return (e: unknown): boolean => e instanceof AtlasError && e.code === code && message.test(e.message);
}

function summary(name: string): StoredClustering {
  return {
    name,
    features: 'color',
    method: 'kmeans',
    normalize: 'zscore',
    components: 2,
    explainedVariance: 0.9,
    n: 3,
    k: 2,
    noise: 1,
    silhouette: 0.5,
    seed: 0,
    params: { k: 2 },
    clusters: [],
    dir: '',
    seconds: 0,
  };
}

function u32(values: number[]): Uint8Array {
  return new Uint8Array(Uint32Array.from(values).buffer);
}

test('clusters: one writer, and both readers see what it wrote', () => {
  const atlas = { paths: atlasPaths(tempDir()) };
  assert.deepEqual(listClusterings(atlas), []);
  assert.equal(readClusterLabels(atlas), null, 'an atlas with no clusters has no labels');

  const dir = writeClusters(
    atlas,
    'fam',
    Uint32Array.from([7, 8, 9]),
    Int32Array.from([0, 1, -1]),
    summary('fam'),
  );
  assert.equal(dir, join(atlas.paths.clusters, 'fam'));
  const stored = readClusters(atlas, 'fam');
  assert.deepEqual(
    [...stored.labels],
    [
      [7, 0],
      [8, 1],
      [9, 'noise'],
    ],
  );
  assert.equal(stored.summary?.method, 'kmeans');
  assert.equal((stored.summary as unknown as { version: number }).version, 1);
  assert.equal(readClusterSummary(atlas, 'fam')?.silhouette, 0.5);
  const labels = readClusterLabels(atlas);
  assert.equal(labels?.name, 'fam');
  assert.deepEqual(
    [...labels!.byStill],
    [
      [7, 'cluster 0'],
      [8, 'cluster 1'],
      [9, 'noise'],
    ],
  );

  // Rewritten whole: the second clustering of that name replaces the first.
  writeClusters(atlas, 'fam', Uint32Array.from([7]), Int32Array.from([3]), summary('fam'));
  assert.deepEqual([...readClusters(atlas, 'fam').labels], [[7, 3]]);
  assert.deepEqual(readdirSync(atlas.paths.clusters), ['fam']);

  assert.throws(
    () => writeClusters(atlas, 'x', Uint32Array.from([1, 2]), Int32Array.from([0]), summary('x')),
    isError('STATE', /2 ids but 1 labels/),
  );
  assert.throws(
    () => writeClusters(atlas, '../x', Uint32Array.from([1]), Int32Array.from([0]), summary('x')),
    isError('INVALID_ARGUMENT', /bad clustering name '..\/x'/),
  );
});

test('clusters: labels made elsewhere (ids.u32 + labels.u32, or labels.json with names) are read too', () => {
  const atlas = { paths: atlasPaths(tempDir()) };
  const ext = join(atlas.paths.clusters, 'external');
  mkdirSync(ext, { recursive: true });
  writeFileSync(join(ext, 'ids.u32'), u32([5, 6, 7]));
  writeFileSync(join(ext, 'labels.u32'), u32([2, 2, 0]));
  assert.deepEqual(
    [...readClusterLabels(atlas, 'external')!.byStill],
    [
      [5, 'cluster 2'],
      [6, 'cluster 2'],
      [7, 'cluster 0'],
    ],
  );
  // No clusters.json: no summary, and the looks reader says it is not one of its own.
  assert.equal(readClusterSummary(atlas, 'external'), undefined);
  assert.throws(() => readClusters(atlas, 'external'), isError('NOT_FOUND', /no clusters named 'external'/));

  const named = join(atlas.paths.clusters, 'named');
  mkdirSync(named);
  writeFileSync(join(named, 'labels.json'), JSON.stringify({ ids: [1, 2], labels: ['day', 3] }));
  assert.deepEqual(
    [...readClusterLabels(atlas, 'named')!.byStill],
    [
      [1, 'day'],
      [2, 'cluster 3'],
    ],
  );
  assert.equal(readClusterLabels(atlas)?.name, 'external', 'with no name, the first by name');
  assert.deepEqual(listClusterings(atlas), ['external', 'named']);

  // Damaged forms are STATE errors naming the clustering.
  writeFileSync(join(ext, 'labels.u32'), u32([1, 2]));
  assert.throws(
    () => readClusterLabels(atlas, 'external'),
    isError('STATE', /clusters 'external': 3 ids but 2 labels/),
  );
  writeFileSync(join(ext, 'labels.u32'), new Uint8Array(9));
  assert.throws(
    () => readClusterLabels(atlas, 'external'),
    isError(
      'STATE',
      /clusters 'external': ids.u32 and labels.u32 must hold whole uint32 values, not 12 and 9 bytes/,
    ),
  );
  writeFileSync(join(named, 'labels.json'), JSON.stringify({ ids: [1, 2], labels: [0] }));
  assert.throws(() => readClusterLabels(atlas, 'named'), isError('STATE', /equal-length "ids" and "labels"/));

  // A missing name: NOT_FOUND listing those there are (each reader in its own words).
  assert.throws(
    () => readClusterLabels(atlas, 'nope'),
    (e: unknown) => {
      return (
        isError('NOT_FOUND', /no clusters named 'nope'/)(e) &&
        (e as AtlasError).suggestion === 'known: [external, named]'
      );
    },
  );
  assert.throws(
    () => readClusters(atlas, 'nope'),
    (e: unknown) => {
      return (
        isError('NOT_FOUND', /no clusters named 'nope'/)(e) &&
        (e as AtlasError).suggestion === 'known: external, named'
      );
    },
  );
});

test('clusters and layouts: listings skip the temporaries of a write in progress or a crashed one', () => {
  const atlas = { paths: atlasPaths(tempDir()) };
  writeClusters(atlas, 'fam', Uint32Array.from([1]), Int32Array.from([0]), summary('fam'));
  writeLayout(atlas, {
    name: 'pts',
    kind: 'points',
    features: 'color',
    method: 'pca',
    params: {},
    xy: Float32Array.from([0, 1]),
    ids: Uint32Array.from([1]),
  });
  // What a writer killed mid-swap leaves: a filled temporary and a set-aside old directory.
  for (const stray of ['a.tmp-4242-0a0b0c0d', 'fam.old-4242-ffff0000']) {
    mkdirSync(join(atlas.paths.clusters, stray));
    writeFileSync(
      join(atlas.paths.clusters, stray, 'labels.json'),
      JSON.stringify({ ids: [1], labels: [9] }),
    );
  }
  mkdirSync(join(atlas.paths.maps, 'a.tmp-4242-0a0b0c0d'));
  writeFileSync(join(atlas.paths.maps, 'a.tmp-4242-0a0b0c0d', 'layout.json'), JSON.stringify({ name: 'a' }));
  mkdirSync(join(atlas.paths.maps, 'pts.tmp-77'));
  writeFileSync(join(atlas.paths.maps, 'pts.tmp-77', 'layout.json'), JSON.stringify({ name: 'pts' }));

  assert.deepEqual(listClusterings(atlas), ['fam']);
  assert.equal(readClusterLabels(atlas)?.name, 'fam', 'the default clustering is never a temporary');
  assert.throws(
    () => readClusterLabels(atlas, 'a.tmp-4242-0a0b0c0d'),
    (e: unknown) =>
      isError('NOT_FOUND', /no clusters named 'a.tmp-4242-0a0b0c0d'/)(e) &&
      (e as AtlasError).suggestion === 'known: [fam]',
  );
  assert.deepEqual(
    listLayouts(atlas).map((m) => m.name),
    ['pts'],
  );
  assert.deepEqual(Array.from(readLayout(atlas, 'pts').xy), [0, 1]);
});

test('palettes: a stored set reads back as written; a damaged one reads as missing', () => {
  const atlas = { paths: atlasPaths(tempDir()) };
  assert.equal(readPaletteSet(atlas), undefined);
  const k = 2;
  const colours = Float32Array.from([50, 10, -10, 0.75, 20, 0, 0, 0.25, 60, 0, 0, 1, 0, 0, 0, 0]);
  const written = writePaletteSet(atlas, {
    space: 'lab',
    k,
    seed: 3,
    ids: Uint32Array.from([11, 12]),
    colours,
    mean: Float32Array.from([40, 1, -1, 60, 0, 0]),
    movies: new Map([
      [
        1,
        { movie: 'A (2000)', stills: 2, palette: Float32Array.from([55.55555, 5, -5, 0.6, 20, 0, 0, 0.4]) },
      ],
    ]),
  });
  assert.equal(written.dir, join(atlas.paths.palettes, 'lab-k2'));
  const read = readPaletteSet(atlas, { k, space: 'lab' });
  assert.ok(read);
  assert.deepEqual(read.manifest, written.manifest);
  assert.deepEqual(Array.from(read.ids), [11, 12]);
  assert.deepEqual(Array.from(stillPaletteOf(read, 12)!), [60, 0, 0, 1, 0, 0, 0, 0]);
  assert.equal(stillPaletteOf(read, 99), undefined);
  // movies.json keeps four decimals; the returned set keeps what it was given.
  assert.ok(Math.abs(read.movies.get(1)![0] - 55.5556) < 1e-4);
  assert.ok(Math.abs(written.movies.get(1)![0] - 55.55555) < 1e-4);
  assert.equal(readPaletteSet(atlas, { k: 3 }), undefined, 'another k is another set');

  truncateSync(join(written.dir, 'colours.f32'), 8);
  assert.equal(
    readPaletteSet(atlas, { k }),
    undefined,
    'files that disagree with the manifest: computed again',
  );

  // The space and k name a directory: bad ones are refused, never looked up.
  assert.throws(
    () => readPaletteSet(atlas, { space: '../x' as 'lab' }),
    /unknown colour space '..\/x': must be one of \[lab, hsl, rgb\]/,
  );
  assert.throws(() => readPaletteSet(atlas, { k: 17 }), /expected an integer 1–16 for --k but got 17/);
});

test('stills: the one reader gives 224×126 RGB, scaled cells, and counts the stills it cannot draw', async () => {
  const dir = tempDir();
  const atlas = { store: new LocalBlobStore(dir) };
  const rgb = new Uint8Array(STILL_WIDTH * STILL_HEIGHT * 3);
  for (let p = 0; p < STILL_WIDTH * STILL_HEIGHT; p++)
    rgb.set(p % STILL_WIDTH < STILL_WIDTH / 2 ? [200, 30, 30] : [30, 30, 200], p * 3);
  const png = await sharp(rgb, { raw: { width: STILL_WIDTH, height: STILL_HEIGHT, channels: 3 } })
    .png()
    .toBuffer();
  await atlas.store.put('stills', 'a'.repeat(64), 'png', png);
  const small = await sharp(rgb, { raw: { width: STILL_WIDTH, height: STILL_HEIGHT, channels: 3 } })
    .resize(100, 50)
    .png()
    .toBuffer();
  await atlas.store.put('stills', 'b'.repeat(64), 'png', small);
  await atlas.store.put('stills', 'c'.repeat(64), 'png', new Uint8Array([1, 2, 3]));

  const still = await readStill(atlas, { id: 1, stdSha256: 'a'.repeat(64) });
  assert.equal(still.width, STILL_WIDTH);
  assert.equal(still.height, STILL_HEIGHT);
  assert.equal(still.channels, 3);
  assert.deepEqual(Array.from(still.data), Array.from(rgb));
  await assert.rejects(
    readStill(atlas, { id: 2, stdSha256: 'b'.repeat(64) }),
    isError('STATE', /standardised still 2 is 100×50×3, expected 224×126×3/),
  );
  await assert.rejects(
    readStill(atlas, { id: 3, stdSha256: null }),
    isError('STATE', /still 3 is not standardised/),
  );

  const cell = await readStillScaled(atlas, { id: 1, stdSha256: 'a'.repeat(64) }, 16, 9);
  assert.equal(cell.length, 16 * 9 * 3);
  assert.deepEqual(Array.from(cell.subarray(0, 3)), [200, 30, 30]);

  const pictures = stillPictures(atlas, [
    { id: 1, stdSha256: 'a'.repeat(64) },
    { id: 3, stdSha256: null },
    { id: 4, stdSha256: 'c'.repeat(64) },
    { id: 5, stdSha256: 'd'.repeat(64) },
  ]);
  assert.equal((await pictures.get(1, 8, 4))?.length, 8 * 4 * 3);
  assert.equal(await pictures.get(3, 8, 4), null, 'not standardised');
  assert.equal(await pictures.get(4, 8, 4), null, 'undecodable');
  assert.equal(await pictures.get(5, 8, 4), null, 'not in the store');
  assert.equal(await pictures.get(6, 8, 4), null, 'not among the stills given');
  assert.equal(pictures.missing, 4);
});
