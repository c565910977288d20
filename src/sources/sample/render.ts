/** A sample still's pixels: its scene painted (scenes.ts), then graded with its movie's look (grade.ts). */
import type { RawImage } from '../../types.js';
import { grade, prepareLook, type PreparedLook } from './grade.js';
import { clampTo } from './looks.js';
import type { SampleMovie } from './plan.js';
import { paintStill } from './scenes.js';

const preparedCache = new WeakMap<SampleMovie, PreparedLook>();

/**
 * Paints still `index` (0-based) of a sample movie: its scene, lit and graded with
 * the movie's look. 8-bit RGB at the movie's size. Pure: the same movie and index
 * give the same pixels.
 */
export function renderSampleStill(movie: SampleMovie, index: number): RawImage {
  const { width: w, height: h } = movie;
  const { c, jr } = paintStill(movie, index);
  let prepared = preparedCache.get(movie);
  if (!prepared || prepared.vignette.length !== w * h) {
    prepared = prepareLook(movie.look, w, h);
    preparedCache.set(movie, prepared);
  }
  // Exposed for the scene, as a camera operator would, but only half-way: night stays darker than day.
  let sum = 0;
  let count = 0;
  for (let p = 0; p < c.px.length; p += 3 * 7, count++)
    sum += 0.2126 * c.px[p] + 0.7152 * c.px[p + 1] + 0.0722 * c.px[p + 2];
  const mean = Math.max(1e-3, sum / Math.max(1, count));
  const exposure = clampTo(Math.pow(0.42 / mean, 0.6), 0.6, 3) * Math.exp(jr.normal(0, 0.03));
  const data = grade(c.px, prepared, jr.uint32(), exposure);
  return { data, width: w, height: h, channels: 3 };
}
