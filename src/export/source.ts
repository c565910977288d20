import type { Atlas } from '../atlas/atlas.js';
import { movieLabel } from '../catalog/catalog.js';
import { FeatureReader } from '../embed/features.js';
import type { FeatureSource } from './features.js';

/** A stored feature matrix of the atlas as an export source (row i ↔ still id ↔ movie). */
export async function atlasFeatureSource(atlas: Atlas, model: string): Promise<FeatureSource> {
  const reader = FeatureReader.open(atlas, model);
  const labels = new Map<number, string>();
  for (const m of await atlas.catalog.movies()) labels.set(m.id, movieLabel(m));
  const movieOfStill = new Map<number, string>();
  for (const r of await atlas.catalog.stillRefs()) movieOfStill.set(r.id, labels.get(r.movieId) ?? '');
  return {
    name: model,
    rows: reader.rows,
    dim: reader.dim,
    stillIds: reader.stillIds,
    movies: Array.from(reader.stillIds, (id) => movieOfStill.get(id) ?? ''),
    readRows: (start, count) => reader.readRows(start, count),
  };
}
