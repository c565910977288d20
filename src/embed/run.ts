import { recordRun } from '../catalog/runs.js';
import type { Atlas } from '../atlas/atlas.js';
import { readStill } from '../atlas/stills.js';
import type { StillRow } from '../catalog/catalog.js';
import { AtlasError, describeError, unknownChoice } from '../errors.js';
import type { RawImage, StageOptions } from '../types.js';
import type { EmbedderOptions } from './embedder.js';
import { FeatureWriter } from './features.js';
import { EMBEDDERS } from './registry.js';
import { checkInt } from '../validate.js';

export interface EmbedOptions extends StageOptions, EmbedderOptions {
  /** Embedder id: one of EMBEDDERS. */
  model: string;
  /** Stills per inference batch. Default: the embedder's own (vgg16 8, color 64); 1–1024. */
  batch?: number;
  /** Recompute every still, discarding the stored features of this model. Default false. */
  redo?: boolean;
}

export interface EmbedResult {
  model: string;
  dim: number;
  /** Stills embedded by this run. */
  embedded: number;
  /** Stills that could not be embedded (recorded with their reason). */
  failed: number;
  /** Ready stills already embedded before this run. */
  skipped: number;
  /** Rows in the feature matrix now. */
  rows: number;
  seconds: number;
  /** Stills per second over this run. */
  rate: number;
}

interface DecodedBatch {
  ok: { still: StillRow; image: RawImage }[];
  failed: { stillId: number; error: string }[];
}

async function decodeBatch(atlas: Atlas, stills: readonly StillRow[]): Promise<DecodedBatch> {
  const settled = await Promise.allSettled(stills.map((s) => readStill(atlas, s)));
  const out: DecodedBatch = { ok: [], failed: [] };
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') out.ok.push({ still: stills[i], image: r.value });
    else
      out.failed.push({
        stillId: stills[i].id,
        error: `cannot decode standardised still: ${describeError(r.reason)}`,
      });
  });
  return out;
}

/**
 * Embeds every standardised still that the model has not embedded yet, streaming:
 * decode batch k+1 while batch k runs through the model, append each batch's rows
 * to the feature matrix as it completes. Memory holds two batches, never the
 * collection; an interrupted run resumes with only the missing stills.
 */
export async function embedStills(atlas: Atlas, options: EmbedOptions): Promise<EmbedResult> {
  const entry = EMBEDDERS[options.model];
  if (!entry) throw unknownChoice('model', options.model, Object.keys(EMBEDDERS));
  const batch = options.batch ?? entry.defaultBatch;
  checkInt('--batch', batch, 1, 1024);
  const started = performance.now();
  const embedder = await entry.create(options);
  let writer: FeatureWriter | undefined;
  const result: EmbedResult = {
    model: embedder.id,
    dim: embedder.dim,
    embedded: 0,
    failed: 0,
    skipped: 0,
    rows: 0,
    seconds: 0,
    rate: 0,
  };
  const runOptions = { model: options.model, batch, preprocess: embedder.preprocess };
  try {
    return await recordRun(
      atlas.catalog,
      'embed',
      runOptions,
      async () => {
        writer = FeatureWriter.open(
          atlas,
          {
            model: embedder.id,
            dim: embedder.dim,
            preprocess: embedder.preprocess,
            weightsSha256: embedder.weightsSha256,
            details: embedder.details,
          },
          { redo: options.redo },
        );
        const done = writer.stillIds();
        const ready = await atlas.catalog.stills('ready');
        const todo = ready.filter((s) => !done.has(s.id));
        result.skipped = ready.length - todo.length;
        const total = todo.length;
        const out = new Float32Array(batch * embedder.dim);
        options.onProgress?.({ stage: `embed ${embedder.id}`, done: 0, total, failed: 0 });
        let next: Promise<DecodedBatch> | undefined =
          total > 0 ? decodeBatch(atlas, todo.slice(0, batch)) : undefined;
        for (let start = 0; start < total; start += batch) {
          if (options.signal?.aborted) break;
          const decoded = await next!;
          const nextStart = start + batch;
          next = nextStart < total ? decodeBatch(atlas, todo.slice(nextStart, nextStart + batch)) : undefined;
          const ids = decoded.ok.map((d) => d.still.id);
          const failures = [...decoded.failed];
          if (decoded.ok.length > 0) {
            const rows = out.subarray(0, decoded.ok.length * embedder.dim);
            try {
              await embedder.embed(
                decoded.ok.map((d) => d.image),
                rows,
              );
              writer.append(ids, rows);
              await atlas.catalog.clearEmbedErrors(embedder.id, ids);
              result.embedded += ids.length;
            } catch (err) {
              if (err instanceof AtlasError && err.code === 'STATE') throw err;
              for (const id of ids)
                failures.push({ stillId: id, error: `model failed on this batch: ${describeError(err)}` });
            }
          }
          await atlas.catalog.recordEmbedErrors(embedder.id, failures);
          result.failed += failures.length;
          options.onProgress?.({
            stage: `embed ${embedder.id}`,
            done: Math.min(total, start + batch),
            total,
            failed: result.failed,
          });
        }
        if (next) await next.catch(() => undefined);
        result.rows = writer.rows;
        result.seconds = (performance.now() - started) / 1000;
        result.rate = result.seconds > 0 ? result.embedded / result.seconds : 0;
        if (options.signal?.aborted) {
          throw new AtlasError(
            'ABORTED',
            `stopped after ${result.embedded} of ${total} stills; run again to resume`,
          );
        }
        return result;
      },
      { counts: () => result },
    );
  } finally {
    writer?.close();
    await embedder.close();
  }
}
