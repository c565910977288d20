import type { Atlas } from '../atlas/atlas.js';
import { movieLabel } from '../catalog/catalog.js';
import { FeatureReader } from '../embed/features.js';
import type { FeatureSource } from './features.js';

/** A stored feature matrix of the atlas as an export source (row i ↔ still id ↔ movie). */
export function atlasFeatureSource(atlas: Atlas, model: string): FeatureSource {
  const reader = FeatureReader.open(atlas, model);
  const labels = new Map<number, string>();
  for (const m of atlas.catalog.movies()) labels.set(m.id, movieLabel(m));
  const movieOfStill = new Map<number, string>();
  const rows = atlas.catalog.db.prepare('SELECT id, movie_id AS movieId FROM stills').all() as { id: number; movieId: number }[];
  for (const r of rows) movieOfStill.set(r.id, labels.get(r.movieId) ?? '');
  return {
    name: model,
    rows: reader.rows,
    dim: reader.dim,
    stillIds: reader.stillIds,
    movies: Array.from(reader.stillIds, (id) => movieOfStill.get(id) ?? ''),
    readRows: (start, count) => reader.readRows(start, count),
  };
}
