/**
 * `filmatlas sample DIR`: a deterministic synthetic collection of film stills, so the
 * whole product can be tried, tested and benchmarked offline.
 *
 * Every movie belongs to one look family (looks.ts: teal-orange, noir, blue night, …)
 * and carries its own slightly jittered version of the family's grade. Its stills are
 * painted as scenes (scenes.ts, on the rasteriser in raster.ts), lit by a time of day,
 * graded with the movie's look (grade.ts) and written with movies.csv by generate.ts.
 * Titles and crew come from names.ts; plan.ts plans a collection without painting it.
 *
 * Determinism: every movie, scene and still draws from its own stream derived with
 * `hashSeed(seed, 'movie', k, ...)`, so the same seed and options give byte-identical
 * files, and a collection of 24 movies starts with exactly the collection of 10 (and
 * 40 stills per movie start with exactly 10).
 */
export {
  DEFAULT_SAMPLE_FAMILIES,
  jitterLook,
  LOOK_FAMILIES,
  type Look,
  type LookFamily,
  type LookRgb,
  type TimeOfDay,
} from './looks.js';
export {
  planSample,
  SAMPLE_ASPECTS,
  SAMPLE_COMPOSITIONS,
  sampleStillFile,
  type SampleAspect,
  type SampleComposition,
  type SampleMovie,
  type SampleOptions,
  type StillNaming,
} from './plan.js';
export { renderSampleStill } from './render.js';
export { generateSample, HOSTILE_FOLDER, SAMPLE_MANIFEST_HEADER, type SampleResult } from './generate.js';
