import {
  Field,
  FixedSizeList,
  Float32,
  makeData,
  RecordBatch as ArrowRecordBatch,
  Schema as ArrowSchema,
  Struct,
  Table as ArrowTable,
  tableToIPC,
  Uint32,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { open } from 'node:fs/promises';
import * as pq from 'parquet-wasm';
import type { Block, Blocks, FeatureSource } from './features.js';
import { writeAllTo } from './io.js';

/**
 * Writes `still_id` (uint32), `movie` (string, dictionary-encoded) and `vector`
 * (fixed-size list of `dim` float32) with one row group per block. parquet-wasm's
 * streaming writer (transformParquetStream) turns record batches into file bytes one
 * row group at a time, and each batch's wasm copy is released once handed over, so
 * wasm memory (capped at 4 GiB) stays at a few blocks whatever the number of rows.
 */
export async function writeParquet(
  source: FeatureSource,
  path: string,
  blocks: Blocks,
  rowGroupRows: number,
): Promise<void> {
  const { dim } = source;
  const vectorType = new FixedSizeList(dim, new Field('item', new Float32(), false));
  const schema = new ArrowSchema(
    [
      new Field('still_id', new Uint32(), false),
      new Field('movie', new Utf8(), false),
      new Field('vector', vectorType, false),
    ],
    new Map([
      ['filmatlas.model', source.name],
      ['filmatlas.dim', String(dim)],
    ]),
  );
  const toWasm = (b: Block): pq.RecordBatch[] => {
    const ids = makeData({
      type: new Uint32(),
      length: b.count,
      data: source.stillIds.subarray(b.start, b.start + b.count),
    });
    const movies = vectorFromArray(source.movies.slice(b.start, b.start + b.count), new Utf8()).data[0];
    const values = makeData({ type: new Float32(), length: b.count * dim, data: b.data });
    const vectors = makeData({ type: vectorType, length: b.count, child: values });
    const struct = makeData({
      type: new Struct(schema.fields),
      length: b.count,
      children: [ids, movies, vectors],
    });
    const table = pq.Table.fromIPCStream(
      tableToIPC(new ArrowTable([new ArrowRecordBatch(schema, struct)]), 'stream'),
    );
    // Free the table now (the batches share its buffers by reference count): left to the
    // garbage collector, every block's wasm copy would linger and memory would grow with the file.
    const batches = table.recordBatches();
    table.free();
    return batches;
  };

  // The writer pulls batches as it needs them; a failure to read a block ends the stream
  // with that error, and it is the one reported (not the writer's echo of it).
  let failure: unknown;
  let sent = 0;
  const iterator = blocks[Symbol.asyncIterator]();
  const input = new ReadableStream<pq.RecordBatch>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) {
          // The writer needs at least one batch to learn the schema from, even an empty one.
          if (sent === 0)
            for (const batch of toWasm({ start: 0, count: 0, data: new Float32Array(0) }))
              controller.enqueue(batch);
          controller.close();
          return;
        }
        for (const batch of toWasm(next.value)) controller.enqueue(batch);
        sent++;
      } catch (err) {
        failure = err;
        controller.error(err);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });

  const props = new pq.WriterPropertiesBuilder()
    .setCreatedBy('filmatlas')
    .setCompression(pq.Compression.SNAPPY)
    .setDictionaryEnabled(false)
    .setColumnDictionaryEnabled('movie', true)
    .setMaxRowGroupSize(rowGroupRows)
    .build();

  const fh = await open(path, 'w');
  try {
    const output = (await pq.transformParquetStream(input, props)) as ReadableStream<Uint8Array>;
    for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) await writeAllTo(fh, chunk);
    await fh.sync();
  } catch (err) {
    throw failure ?? err;
  } finally {
    await fh.close();
  }
  if (failure) throw failure;
}
