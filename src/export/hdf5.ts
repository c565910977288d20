import h5wasm from 'h5wasm/node';
import type { Blocks, FeatureSource } from './features.js';

/** HDF5 chunks of about 1 MiB: the HDF5 library's default chunk cache holds one whole. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Writes `mydataset` (rows × dim float32, the name and layout the original analysis
 * used, so its notebooks read it unchanged), `still_ids` (uint32) and `movies`
 * (variable-length UTF-8 strings). The matrix is a chunked dataset filled one block
 * at a time through hyperslab writes: h5wasm's Node build writes straight to the file
 * (NODERAWFS), so only one block at a time passes through its 32-bit wasm memory.
 */
export async function writeHdf5(source: FeatureSource, path: string, blocks: Blocks): Promise<void> {
  await h5wasm.ready;
  const { rows, dim } = source;
  const file = new h5wasm.File(path, 'w');
  try {
    file.create_attribute('model', source.name);
    const chunkRows = Math.max(1, Math.min(Math.max(rows, 1), Math.floor(CHUNK_BYTES / (dim * 4))));
    const matrix = file.create_dataset({
      name: 'mydataset',
      data: new Float32Array(0),
      shape: [0, dim],
      maxshape: [null, dim],
      chunks: [chunkRows, dim],
      dtype: '<f',
    });
    matrix.create_attribute('model', source.name);
    if (rows > 0) matrix.resize([rows, dim]);
    for await (const { start, count, data } of blocks) {
      matrix.write_slice(
        [
          [start, start + count],
          [0, dim],
        ],
        data,
      );
    }
    file.create_dataset({ name: 'still_ids', data: source.stillIds, shape: [rows], dtype: '<I' });
    file.create_dataset({ name: 'movies', data: source.movies, shape: [rows], dtype: 'S' }); // 'S': variable-length UTF-8
  } finally {
    file.close();
  }
}
