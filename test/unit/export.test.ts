import { tableFromIPC } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import h5wasm from 'h5wasm/node';
import * as pq from 'parquet-wasm';
import { AtlasError } from '../../src/errors.js';
import {
  EXPORT_FORMATS,
  exportFeatures,
  npyHeader,
  type ExportFormat,
  type FeatureSource,
} from '../../src/export/features.js';
import { formatFloat32 } from '../../src/export/text.js';
import { csvField } from '../../src/sources/csv.js';
import type { ProgressEvent } from '../../src/types.js';
import { tempDir } from '../helpers/tmp.js';

const FORMATS = Object.keys(EXPORT_FORMATS) as ExportFormat[];

/** Movie labels that stress quoting and encoding. */
const LABELS = [
  'Alien (1979)',
  'Crouching Tiger, Hidden Dragon (2000)',
  'The "Quoted" Film (1999)',
  'Amélie (2001) — 天使',
  'Line\nBreak (1990)',
  ' Leading Space (1980)',
  '',
];

/** A deterministic pseudo-random float32 stream (mulberry32) with awkward values mixed in. */
function makeMatrix(rows: number, dim: number, seed = 1): Float32Array {
  const out = new Float32Array(rows * dim);
  let a = seed >>> 0;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const special = [
    0, -0, 0.1, 1, -1, 3e38, -3e38, 1.401298464324817e-45, 1.1754943508222875e-38, 123456789, 1e-7, 0.5,
  ];
  for (let i = 0; i < out.length; i++) {
    out[i] = i < special.length ? special[i] : (rand() - 0.4) * 10 ** Math.floor(rand() * 8 - 4);
  }
  return out;
}

interface TestSource extends FeatureSource {
  matrix: Float32Array;
  reads: { start: number; count: number }[];
}

function makeSource(rows: number, dim: number, seed = 1): TestSource {
  const matrix = makeMatrix(rows, dim, seed);
  const reads: { start: number; count: number }[] = [];
  return {
    name: 'testnet',
    rows,
    dim,
    stillIds: Uint32Array.from({ length: rows }, (_, i) => 1000 + i * 3),
    movies: Array.from({ length: rows }, (_, i) => LABELS[i % LABELS.length]),
    matrix,
    reads,
    readRows(start, count) {
      reads.push({ start, count });
      // A copy, as a reader from disk would return: writers must not rely on a view of the whole.
      return matrix.slice(start * dim, (start + count) * dim);
    },
  };
}

/** Bit-exact float32 comparison (so -0 and NaN payloads count), reporting the first bad index. */
function assertSameFloats(actual: ArrayLike<number>, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Float32Array(actual as ArrayLike<number>);
  const ua = new Uint32Array(a.buffer);
  const ue = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < ue.length; i++) {
    if (ua[i] !== ue[i]) assert.fail(`${what}: first difference at index ${i}: ${a[i]} != ${expected[i]}`);
  }
}

interface Table {
  ids: number[];
  movies: string[];
  matrix: Float32Array;
  shape: [number, number];
}

function readNpy(path: string): { shape: number[]; descr: string; offset: number; data: Float32Array } {
  const buf = readFileSync(path);
  assert.equal(buf.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  assert.deepEqual([buf[6], buf[7]], [1, 0]);
  const hlen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + hlen).toString('latin1');
  assert.ok(header.endsWith('\n'));
  const m = /^\{'descr': '([<>|][a-z]\d)', 'fortran_order': False, 'shape': \(([\d, ]*)\), \} *\n$/.exec(
    header,
  );
  assert.ok(m, `unexpected npy header ${JSON.stringify(header)}`);
  const shape = m[2]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const offset = 10 + hlen;
  const bytes = buf.subarray(offset);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { shape, descr: m[1], offset, data };
}

async function readHdf5(path: string): Promise<Table> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r');
  try {
    const ds = f.get('mydataset') as InstanceType<typeof h5wasm.Dataset>;
    const shape = ds.shape as [number, number];
    const ids = f.get('still_ids') as InstanceType<typeof h5wasm.Dataset>;
    const movies = f.get('movies') as InstanceType<typeof h5wasm.Dataset>;
    assert.equal(ds.dtype, '<f');
    assert.equal(ids.dtype, '<I');
    return {
      shape,
      matrix: ds.value as Float32Array,
      ids: Array.from(ids.value as Uint32Array),
      movies: movies.value as string[],
    };
  } finally {
    f.close();
  }
}

function readParquet(path: string): Table & { dimFromType: number } {
  const wasmTable = pq.readParquet(readFileSync(path));
  const t = tableFromIPC(wasmTable.intoIPCStream());
  const vec = t.getChild('vector');
  assert.ok(vec);
  const dim = (vec.type as { listSize: number }).listSize;
  const rows = t.numRows;
  const matrix = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) matrix.set(vec.get(i).toArray() as Float32Array, i * dim);
  return {
    shape: [rows, dim],
    dimFromType: dim,
    matrix,
    ids: Array.from({ length: rows }, (_, i) => Number(t.getChild('still_id')?.get(i))),
    movies: Array.from({ length: rows }, (_, i) => String(t.getChild('movie')?.get(i))),
  };
}

/** A strict RFC 4180 reader (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      field += c;
      i++;
    }
  }
  assert.equal(field, '', 'file ends with a newline');
  assert.equal(row.length, 0);
  return rows;
}

function readCsv(path: string, dim: number): Table {
  const [header, ...lines] = parseCsv(readFileSync(path, 'utf8'));
  assert.deepEqual(header, ['still_id', 'movie', ...Array.from({ length: dim }, (_, j) => `f${j}`)]);
  const matrix = new Float32Array(lines.length * dim);
  lines.forEach((l, i) => {
    assert.equal(l.length, dim + 2, `line ${i + 2} has ${l.length} fields`);
    for (let j = 0; j < dim; j++) matrix[i * dim + j] = parseFloatField(l[j + 2]);
  });
  return {
    shape: [lines.length, dim],
    matrix,
    ids: lines.map((l) => Number(l[0])),
    movies: lines.map((l) => l[1]),
  };
}

function parseFloatField(s: string): number {
  const special: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity };
  if (s in special) return special[s];
  assert.match(s, /^-?\d+(\.\d+)?(e[+-]\d+)?$/, `not a plain number: ${s}`);
  return Number(s);
}

function readJson(path: string): Table & { model: string } {
  const j = JSON.parse(readFileSync(path, 'utf8')) as {
    model: string;
    dim: number;
    rows: { still_id: number; movie: string; vector: number[] }[];
  };
  const matrix = new Float32Array(j.rows.length * j.dim);
  j.rows.forEach((r, i) => {
    assert.equal(r.vector.length, j.dim);
    matrix.set(r.vector, i * j.dim);
  });
  return {
    model: j.model,
    shape: [j.rows.length, j.dim],
    matrix,
    ids: j.rows.map((r) => r.still_id),
    movies: j.rows.map((r) => r.movie),
  };
}

async function readBack(format: ExportFormat, path: string, dim: number): Promise<Table> {
  switch (format) {
    case 'npy': {
      const n = readNpy(path);
      return { shape: n.shape as [number, number], matrix: n.data, ids: [], movies: [] };
    }
    case 'hdf5':
      return readHdf5(path);
    case 'parquet':
      return readParquet(path);
    case 'csv':
      return readCsv(path, dim);
    case 'json':
      return readJson(path);
  }
}

async function roundTrip(
  source: TestSource,
  format: ExportFormat,
  dir: string,
  blockRows?: number,
): Promise<void> {
  const out = join(dir, `features${EXPORT_FORMATS[format].extension}`);
  const r = await exportFeatures(source, format, out, { blockRows });
  assert.deepEqual([r.path, r.format, r.rows, r.dim], [out, format, source.rows, source.dim]);
  assert.equal(r.bytes, readFileSync(out).length);
  const back = await readBack(format, out, source.dim);
  assert.deepEqual(back.shape, [source.rows, source.dim], `${format}: shape`);
  assertSameFloats(back.matrix, source.matrix, format);
  if (format !== 'npy') {
    assert.deepEqual(back.ids, Array.from(source.stillIds), `${format}: still ids`);
    assert.deepEqual(back.movies, source.movies, `${format}: movies`);
  }
}

describe('npyHeader', () => {
  test('is what numpy writes: 64-byte aligned, version 1.0', () => {
    const h = npyHeader([3, 4]);
    assert.equal(h.length, 128);
    assert.equal(
      h.toString('latin1'),
      "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }" +
        ' '.repeat(58) +
        '\n',
    );
    assert.match(
      npyHeader([5], '<u4').toString('latin1'),
      /'descr': '<u4', 'fortran_order': False, 'shape': \(5,\), \}/,
    );
    assert.equal(npyHeader([132617, 4096]).length % 64, 0);
    assert.throws(() => npyHeader([-1, 2]), RangeError);
  });
});

describe('formatFloat32', () => {
  test('prints short text that reads back as the same float32', () => {
    const cases: [number, string][] = [
      [0.5, '0.5'],
      [3, '3'],
      [100, '100'],
      [0, '0'],
      [-0, '-0'],
      [Math.fround(0.1), '0.1'],
      [1e20, '1e+20'],
      [Math.fround(-2.5e-12), '-2.5e-12'],
      [NaN, 'nan'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
    ];
    for (const [x, s] of cases) assert.equal(formatFloat32(Math.fround(x)), s, `${x}`);
    const m = makeMatrix(200, 100, 7);
    for (let i = 0; i < m.length; i++) {
      const s = formatFloat32(m[i]);
      assert.ok(Object.is(Math.fround(Number(s)), m[i]), `${m[i]} printed as ${s}`);
      assert.ok(s.replace(/^-|e.*$|\./g, '').replace(/^0+/, '').length <= 9, `${s} is too long`);
    }
  });

  test('csvField quotes only when needed', () => {
    assert.equal(csvField('Alien (1979)'), 'Alien (1979)');
    assert.equal(csvField('Crouching Tiger, Hidden Dragon'), '"Crouching Tiger, Hidden Dragon"');
    assert.equal(csvField('The "Quoted"'), '"The ""Quoted"""');
    assert.equal(csvField('a\nb'), '"a\nb"');
    assert.equal(csvField(' x'), '" x"');
  });
});

describe('exportFeatures', () => {
  for (const format of FORMATS) {
    test(`${format}: writes a matrix that reads back exactly`, async () => {
      await roundTrip(makeSource(37, 16, 3), format, tempDir('filmatlas-export-'));
    });
  }

  test('several blocks: every writer streams block by block', async () => {
    const dir = tempDir('filmatlas-export-');
    for (const format of FORMATS) {
      const source = makeSource(1000, 9, 11);
      const events: ProgressEvent[] = [];
      const out = join(dir, `many-${format}${EXPORT_FORMATS[format].extension}`);
      await exportFeatures(source, format, out, { blockRows: 64, onProgress: (e) => events.push(e) });
      assert.deepEqual(
        source.reads,
        Array.from({ length: 16 }, (_, k) => ({ start: k * 64, count: Math.min(64, 1000 - k * 64) })),
        `${format}: read in blocks of 64 rows, each once`,
      );
      assert.deepEqual(
        events.map((e) => e.done),
        [0, ...Array.from({ length: 16 }, (_, k) => Math.min(1000, (k + 1) * 64))],
      );
      assert.ok(events.every((e) => e.stage === 'export' && e.total === 1000));
      const back = await readBack(format, out, 9);
      assertSameFloats(back.matrix, source.matrix, `${format} (blocks)`);
      if (format !== 'npy') assert.deepEqual(back.ids, Array.from(source.stillIds));
    }
  });

  test('parquet: one row group per block, vector as a fixed-size list', async () => {
    const dir = tempDir('filmatlas-export-');
    const source = makeSource(300, 5);
    const out = join(dir, 'f.parquet');
    await exportFeatures(source, 'parquet', out, { blockRows: 100 });
    const file = await pq.ParquetFile.fromFile(new Blob([readFileSync(out)]));
    assert.equal(file.metadata().fileMetadata().numRows(), 300);
    assert.equal(file.metadata().numRowGroups(), 3);
    assert.equal(readParquet(out).dimFromType, 5);
  });

  test('hdf5: the matrix is chunked and resizable, so it was written block by block', async () => {
    const dir = tempDir('filmatlas-export-');
    const out = join(dir, 'f.h5');
    await exportFeatures(makeSource(500, 4096), 'hdf5', out, { blockRows: 128 });
    await h5wasm.ready;
    const f = new h5wasm.File(out, 'r');
    try {
      const ds = f.get('mydataset') as InstanceType<typeof h5wasm.Dataset>;
      assert.deepEqual(ds.shape, [500, 4096]);
      assert.deepEqual(ds.metadata.chunks, [64, 4096]);
      assert.equal(ds.get_attribute('model', false), 'testnet');
    } finally {
      f.close();
    }
  });

  test('an empty feature set gives empty but readable files', async () => {
    const dir = tempDir('filmatlas-export-');
    for (const format of FORMATS) await roundTrip(makeSource(0, 8), format, dir);
  });

  test('csv and json write non-finite values the way their readers expect', async () => {
    const dir = tempDir('filmatlas-export-');
    const source = makeSource(2, 3);
    source.matrix.set([NaN, Infinity, -Infinity]);
    await exportFeatures(source, 'csv', join(dir, 'f.csv'));
    assert.match(
      readFileSync(join(dir, 'f.csv'), 'utf8').split('\n')[1],
      /^1000,Alien \(1979\),nan,inf,-inf$/,
    );
    await exportFeatures(source, 'json', join(dir, 'f.json'));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'f.json'), 'utf8')).rows[0].vector, [
      null,
      null,
      null,
    ]);
  });

  test('a failure midway leaves the old file untouched and no temporary file', async () => {
    const dir = tempDir('filmatlas-export-');
    for (const format of FORMATS) {
      const out = join(dir, `keep${EXPORT_FORMATS[format].extension}`);
      writeFileSync(out, 'previous export');
      const source = makeSource(200, 4);
      const read = source.readRows.bind(source);
      source.readRows = (start, count) => {
        if (start >= 100) throw new AtlasError('ATLAS', 'feature matrix is shorter than its manifest says');
        return read(start, count);
      };
      await assert.rejects(exportFeatures(source, format, out, { blockRows: 50 }), (e: unknown) => {
        assert.ok(e instanceof AtlasError, String(e));
        assert.equal(e.code, 'ATLAS');
        return true;
      });
      assert.equal(readFileSync(out, 'utf8'), 'previous export', format);
    }
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp')),
      [],
    );
  });

  test('cancelling stops at the next block and writes nothing', async () => {
    const dir = tempDir('filmatlas-export-');
    for (const format of FORMATS) {
      const ac = new AbortController();
      const out = join(dir, `cancel${EXPORT_FORMATS[format].extension}`);
      const source = makeSource(400, 4);
      await assert.rejects(
        exportFeatures(source, format, out, {
          blockRows: 50,
          signal: ac.signal,
          onProgress: (e) => e.done >= 100 && ac.abort(),
        }),
        (e: unknown) => e instanceof AtlasError && e.code === 'ABORTED',
      );
      assert.ok(source.reads.length < 8, `${format} stopped early (${source.reads.length} blocks read)`);
      assert.ok(!existsSync(out));
    }
    assert.deepEqual(readdirSync(dir), []);
  });

  test('bad arguments', async () => {
    const dir = tempDir('filmatlas-export-');
    const source = makeSource(3, 2);
    await assert.rejects(
      exportFeatures(source, 'xlsx' as ExportFormat, join(dir, 'x')),
      /unknown export format 'xlsx': must be one of \[npy, hdf5, parquet, csv, json\]/,
    );
    await assert.rejects(
      exportFeatures(source, 'npy', join(dir, 'x.npy'), { blockRows: 0 }),
      /expected a positive integer for blockRows but got 0/,
    );
    await assert.rejects(
      exportFeatures(source, 'npy', dir),
      /expected a file path for --out but got the folder/,
    );
    await assert.rejects(
      exportFeatures({ ...source, movies: ['a'] }, 'csv', join(dir, 'x.csv')),
      /1 movies for 3 rows/,
    );
    await assert.rejects(
      exportFeatures({ ...source, readRows: () => new Float32Array(5) }, 'npy', join(dir, 'x.npy')),
      /returned 5 values for rows 0..3 \(expected 3 × 2\)/,
    );
    assert.deepEqual(readdirSync(dir), []);
  });
});

/** Debian's python with numpy and h5py (apt: python3-numpy python3-h5py), as analysts would read the files. */
const PYTHON = '/usr/bin/python3';
function pythonHas(modules: string[]): boolean {
  if (!existsSync(PYTHON)) return false;
  return (
    spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: 'ignore' }).status === 0
  );
}

describe('read by the Python tools analysts use', () => {
  const numpyH5 = pythonHas(['numpy', 'h5py']);
  test(
    'numpy.load reads the .npy and h5py reads the HDF5',
    { skip: numpyH5 ? false : `${PYTHON} lacks numpy/h5py (apt-get install python3-numpy python3-h5py)` },
    async () => {
      const dir = tempDir('filmatlas-export-');
      const source = makeSource(150, 33, 5);
      await exportFeatures(source, 'npy', join(dir, 'f.npy'), { blockRows: 40 });
      await exportFeatures(source, 'hdf5', join(dir, 'f.h5'), { blockRows: 40 });
      writeFileSync(join(dir, 'expected.f32'), source.matrix);
      writeFileSync(
        join(dir, 'expected.json'),
        JSON.stringify({ ids: Array.from(source.stillIds), movies: source.movies }),
      );
      const script = `
import json, sys, numpy as np, h5py
d = sys.argv[1]
want = np.fromfile(d + '/expected.f32', dtype='<f4').reshape(150, 33)
meta = json.load(open(d + '/expected.json', encoding='utf-8'))
a = np.load(d + '/f.npy')
assert a.dtype == np.float32 and a.shape == (150, 33), (a.dtype, a.shape)
assert a.tobytes() == want.tobytes(), 'npy data differs'
m = np.load(d + '/f.npy', mmap_mode='r')
assert m[149].tobytes() == want[149].tobytes()
with h5py.File(d + '/f.h5', 'r') as f:
    x = f['mydataset']
    assert x.dtype == np.float32 and x.shape == (150, 33), (x.dtype, x.shape)
    assert x[:].tobytes() == want.tobytes(), 'hdf5 data differs'
    assert x[77:91].tobytes() == want[77:91].tobytes()
    assert f['still_ids'].dtype == np.uint32
    assert f['still_ids'][:].tolist() == meta['ids']
    assert list(f['movies'].asstr()[:]) == meta['movies']
    assert f.attrs['model'] == 'testnet'
print('python ok')
`;
      const r = spawnSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /python ok/);
    },
  );

  const pyarrow = pythonHas(['pyarrow.parquet']);
  test('pyarrow reads the Parquet', { skip: pyarrow ? false : `${PYTHON} lacks pyarrow` }, async () => {
    const dir = tempDir('filmatlas-export-');
    const source = makeSource(150, 33, 5);
    await exportFeatures(source, 'parquet', join(dir, 'f.parquet'), { blockRows: 40 });
    writeFileSync(join(dir, 'expected.f32'), source.matrix);
    writeFileSync(
      join(dir, 'expected.json'),
      JSON.stringify({ ids: Array.from(source.stillIds), movies: source.movies }),
    );
    const script = `
import json, sys, numpy as np, pyarrow.parquet as pq
d = sys.argv[1]
want = np.fromfile(d + '/expected.f32', dtype='<f4').reshape(150, 33)
meta = json.load(open(d + '/expected.json', encoding='utf-8'))
t = pq.read_table(d + '/f.parquet')
assert t.column('still_id').to_pylist() == meta['ids']
assert t.column('movie').to_pylist() == meta['movies']
v = np.stack([np.asarray(x, dtype=np.float32) for x in t.column('vector').to_pylist()])
assert v.tobytes() == want.tobytes(), 'parquet data differs'
assert pq.ParquetFile(d + '/f.parquet').metadata.num_row_groups == 4
print('python ok')
`;
    const r = spawnSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /python ok/);
  });
});

/**
 * DuckDB reads the Parquet file with its own (C++) reader, not the arrow-rs code that wrote it,
 * as analysts query it. pyarrow, the Python reader above, is not packaged in Debian 12, so this
 * is the independent read-back that runs in CI.
 */
describe('read by DuckDB', () => {
  test('DuckDB reads the Parquet: the types, ids, movies and vectors exactly, one row group per block', async () => {
    const dir = tempDir('filmatlas-export-');
    const source = makeSource(150, 33, 5);
    const path = join(dir, 'f.parquet');
    await exportFeatures(source, 'parquet', path, { blockRows: 40 });
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await db.connect();
    try {
      const query = async (sql: string): Promise<Record<string, unknown>[]> =>
        (await con.runAndReadAll(sql, { path })).getRowObjectsJS();

      const schema = await query(
        'SELECT name, type, repetition_type, converted_type FROM parquet_schema($path)',
      );
      assert.deepEqual(
        schema.map((c) => [c.name, c.type, c.repetition_type, c.converted_type]),
        [
          ['arrow_schema', null, null, null],
          ['still_id', 'INT32', 'REQUIRED', 'UINT_32'],
          ['movie', 'BYTE_ARRAY', 'REQUIRED', 'UTF8'],
          ['vector', null, 'REQUIRED', 'LIST'],
          ['list', null, 'REPEATED', null],
          ['item', 'FLOAT', 'REQUIRED', null],
        ],
      );

      const rows = await query(
        'SELECT still_id, movie, vector FROM read_parquet($path, file_row_number = true) ORDER BY file_row_number',
      );
      assert.equal(rows.length, 150);
      assert.deepEqual(
        rows.map((r) => r.still_id),
        Array.from(source.stillIds),
      );
      assert.deepEqual(
        rows.map((r) => r.movie),
        source.movies,
      );
      const vectors = rows.map((r) => r.vector as number[]);
      assert.ok(vectors.every((v) => Array.isArray(v) && v.length === 33));
      assertSameFloats(vectors.flat(), source.matrix, 'parquet read by DuckDB');

      const groups = await query(
        'SELECT row_group_id, any_value(row_group_num_rows) AS n FROM parquet_metadata($path) GROUP BY row_group_id ORDER BY row_group_id',
      );
      assert.deepEqual(
        groups.map((g) => Number(g.n)),
        [40, 40, 40, 30],
      );
    } finally {
      con.closeSync();
      db.closeSync();
    }
  });
});
