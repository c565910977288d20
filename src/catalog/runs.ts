/**
 * The run bookkeeping every stage shares: a row in the catalogue's runs that says
 * when a stage started and whether it finished (`done`), failed (with the error) or
 * was cancelled (`aborted`), with its counts — what `filmatlas status` lists.
 */
import { AtlasError, describeError } from '../errors.js';
import type { Catalog } from './catalog.js';

export interface RecordRunOptions<T> {
  /**
   * The counts stored with the run. Called once when the run ends, with its result
   * when it succeeded; a stage that keeps a running tally returns it on failure too.
   * Default: the result itself, and `{}` when the run did not finish.
   */
  counts?: (result: T | undefined) => object;
}

/** Runs `work` as a recorded run of `stage` (with `options` stored beside it) and returns its result. */
export async function recordRun<T>(
  catalog: Catalog,
  stage: string,
  options: object,
  work: () => Promise<T>,
  record: RecordRunOptions<T> = {},
): Promise<T> {
  const counts = record.counts ?? ((r: T | undefined) => (r === undefined ? {} : (r as object)));
  const runId = await catalog.startRun(stage, options);
  let result: T;
  try {
    result = await work();
  } catch (err) {
    const aborted = err instanceof AtlasError && err.code === 'ABORTED';
    await catalog.finishRun(runId, aborted ? 'aborted' : 'failed', counts(undefined), describeError(err));
    throw err;
  }
  await catalog.finishRun(runId, 'done', counts(result));
  return result;
}
