import type { Atlas } from '../atlas/atlas.js';
import { FeatureReader } from '../embed/features.js';

export interface RejectedStill {
  file: string;
  reason: string;
  code: string | null;
  movie: string;
  stillId: number;
}

export interface AtlasStatus {
  atlas: string;
  movies: number;
  stills: number;
  standardised: number;
  pending: number;
  rejected: RejectedStill[];
  /** Per stage: what is done and what is left. */
  stages: Record<string, { done: number; pending: number; failed: number }>;
  /** Stills an embedder could not embed, with the reason. */
  embedErrors: { model: string; file: string; reason: string; stillId: number }[];
  runs: { id: number; stage: string; status: string; startedAt: string; finishedAt: string | null }[];
}

/** What an atlas holds and what went wrong, per stage. */
export async function atlasStatus(atlas: Atlas): Promise<AtlasStatus> {
  const c = await atlas.catalog.counts();
  const rejected = (await atlas.catalog.rejectedStills()).map((r) => ({
    file: r.source,
    reason: r.reason ?? 'unknown',
    code: r.code,
    movie: r.movie,
    stillId: r.id,
  }));
  const stages: AtlasStatus['stages'] = {
    standardise: { done: c.ready, pending: c.pending, failed: c.rejected },
  };
  const errors = await atlas.catalog.embedErrors();
  for (const m of FeatureReader.list(atlas)) {
    const failed = errors.filter((e) => e.model === m.model).length;
    stages[`embed ${m.model}`] = { done: m.rows, pending: Math.max(0, c.ready - m.rows - failed), failed };
  }
  return {
    atlas: atlas.paths.root,
    movies: c.movies,
    stills: c.stills,
    standardised: c.ready,
    pending: c.pending,
    rejected,
    stages,
    embedErrors: errors.map((e) => ({ model: e.model, file: e.source, reason: e.error, stillId: e.stillId })),
    runs: (await atlas.catalog.runs(10)).map(({ id, stage, status, startedAt, finishedAt }) => ({
      id,
      stage,
      status,
      startedAt,
      finishedAt,
    })),
  };
}
