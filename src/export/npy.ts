import { open } from 'node:fs/promises';
import type { Blocks, FeatureSource } from './features.js';
import { writeAllTo } from './io.js';

/**
 * The header of a NumPy `.npy` file (format version 1.0) for a C-order array of
 * `shape` and `dtype`; the raw little-endian data follows it. Padded so the data
 * starts on a 64-byte boundary, as numpy itself writes it, which keeps the data
 * memory-mappable (`numpy.load(..., mmap_mode='r')`).
 */
export function npyHeader(shape: number[], dtype: '<f4' | '<u4' | '<i4' = '<f4'): Buffer {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new RangeError(`npy shape entries must be non-negative integers, got [${shape.join(', ')}]`);
  }
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${tuple}, }`;
  // magic (6) + version (2) + header length (2) + dict + padding + '\n' ≡ 0 (mod 64)
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff)
    throw new RangeError(`npy header too long for format 1.0 (${header.length} bytes)`);
  const out = Buffer.alloc(10 + header.length);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  return out;
}

/** rows × dim float32 in C order: the header, then each block's bytes as they are. */
export async function writeNpy(source: FeatureSource, path: string, blocks: Blocks): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await writeAllTo(fh, npyHeader([source.rows, source.dim], '<f4'));
    for await (const b of blocks)
      await writeAllTo(fh, new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength));
    await fh.sync();
  } finally {
    await fh.close();
  }
}
