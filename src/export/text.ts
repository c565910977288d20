import { open } from 'node:fs/promises';
import type { Blocks, FeatureSource } from './features.js';
import { TextSink } from './io.js';
import { csvField } from '../sources/csv.js';

/**
 * A float32 value as short decimal text that parses back to the same float32
 * (`Math.fround(Number(s)) === x`). Eight significant digits are enough for most
 * float32 values and nine for all; trailing zeros are dropped ("0.5", not
 * "0.50000000"). This is not always the very shortest string (a value that 7
 * digits would pin may get 8), which keeps it to one or two `toPrecision` calls:
 * a full-size CSV is half a billion numbers. Negative zero keeps its sign;
 * non-finite values are written as `nan`, `inf`, `-inf` (what Python and numpy parse).
 */
export function formatFloat32(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  let t = x.toPrecision(8);
  if (Math.fround(Number(t)) !== x) t = x.toPrecision(9);
  return t.charCodeAt(t.length - 1) === 48 /* 0 */ || t.includes('e') ? trimZeros(t) : t;
}

/** "1.5000000" → "1.5", "3.0000000" → "3", "1.0000000e+20" → "1e+20"; integers without a point are left alone. */
function trimZeros(t: string): string {
  const e = t.indexOf('e');
  const mantissa = e < 0 ? t : t.slice(0, e);
  if (!mantissa.includes('.')) return t;
  let k = mantissa.length;
  while (mantissa.charCodeAt(k - 1) === 48) k--;
  if (mantissa.charCodeAt(k - 1) === 46 /* . */) k--;
  return mantissa.slice(0, k) + (e < 0 ? '' : t.slice(e));
}

/** `still_id,movie,f0,…,f{dim-1}`, one line per still. */
export async function writeCsv(source: FeatureSource, path: string, blocks: Blocks): Promise<void> {
  const { dim, stillIds, movies } = source;
  const fh = await open(path, 'w');
  try {
    const sink = new TextSink(fh);
    let header = 'still_id,movie';
    for (let j = 0; j < dim; j++) header += `,f${j}`;
    await sink.add(header + '\n');
    for await (const { start, count, data } of blocks) {
      for (let i = 0; i < count; i++) {
        const row = start + i;
        let line = `${stillIds[row]},${csvField(movies[row])}`;
        const off = i * dim;
        for (let j = 0; j < dim; j++) line += ',' + formatFloat32(data[off + j]);
        await sink.add(line + '\n');
      }
    }
    await sink.flush();
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A JSON number for a float32; JSON has no NaN or infinities, so those become null. */
function jsonFloat(x: number): string {
  return Number.isFinite(x) ? formatFloat32(x) : 'null';
}

/** `{"model": …, "dim": …, "rows": [{"still_id": …, "movie": …, "vector": […]}, …]}`, one row per line. */
export async function writeJson(source: FeatureSource, path: string, blocks: Blocks): Promise<void> {
  const { dim, stillIds, movies } = source;
  const fh = await open(path, 'w');
  try {
    const sink = new TextSink(fh);
    await sink.add(`{"model":${JSON.stringify(source.name)},"dim":${dim},"rows":[`);
    for await (const { start, count, data } of blocks) {
      for (let i = 0; i < count; i++) {
        const row = start + i;
        let line = `${row === 0 ? '' : ','}\n{"still_id":${stillIds[row]},"movie":${JSON.stringify(movies[row])},"vector":[`;
        const off = i * dim;
        for (let j = 0; j < dim; j++) line += (j === 0 ? '' : ',') + jsonFloat(data[off + j]);
        await sink.add(line + ']}');
      }
    }
    await sink.add(source.rows === 0 ? ']}\n' : '\n]}\n');
    await sink.flush();
    await fh.sync();
  } finally {
    await fh.close();
  }
}
