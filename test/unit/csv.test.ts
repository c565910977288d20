import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv, toCsv } from '../../src/sources/csv.js';

test('parseCsv reads RFC 4180: quotes, doubled quotes, commas and line breaks in fields, CRLF, BOM', () => {
  const text =
    '\ufefftitle,year,notes\r\n"Crouching Tiger, Hidden Dragon",2000,"said ""wow""\nand left"\r\nAlien,1979,\r\n\r\n';
  assert.deepEqual(parseCsv(text), [
    ['title', 'year', 'notes'],
    ['Crouching Tiger, Hidden Dragon', '2000', 'said "wow"\nand left'],
    ['Alien', '1979', ''],
  ]);
  assert.deepEqual(
    parseCsv('a,b\nc,d'),
    [
      ['a', 'b'],
      ['c', 'd'],
    ],
    'no final newline',
  );
  assert.deepEqual(parseCsv(''), []);
});

test('parseCsv rejects an unterminated quote', () => {
  assert.throws(() => parseCsv('a,"b\nc'), /unterminated/);
});

test('toCsv round-trips through parseCsv', () => {
  const rows = [
    ['title', 'director'],
    ['The "Quoted" Film', 'A, B'],
    [' padded ', 'line\nbreak'],
    ['plain', ''],
  ];
  assert.deepEqual(parseCsv(toCsv(rows)), rows);
  assert.equal(toCsv([['a', 'b,c']]), 'a,"b,c"\n');
});
