/**
 * What a sample collection is, before any pixel is painted: its options, and the plan
 * of its movies (titles, crew, family, look, aspect, file formats) and still files.
 *
 * Determinism: every movie, scene and still draws from its own stream derived with
 * `hashSeed(seed, 'movie', k, ...)`, so the same seed and options give the same plan,
 * and a collection of 24 movies starts with exactly the collection of 10.
 */
import { invalidArgument, unknownChoice } from '../../errors.js';
import { hashSeed, Random } from '../../numeric/random.js';
import type { StageOptions } from '../../types.js';
import { requireInt } from '../../validate.js';
import { DEFAULT_SAMPLE_FAMILIES, jitterLook, LOOK_FAMILIES, type Look, type LookFamily } from './looks.js';
import { inventName, inventUniqueTitle, slugify } from './names.js';

export const SAMPLE_ASPECTS = ['2.39:1', '1.85:1', '16:9', '4:3'] as const;
export type SampleAspect = (typeof SAMPLE_ASPECTS)[number];
const ASPECT_RATIO: Record<SampleAspect, number> = {
  '2.39:1': 2.39,
  '1.85:1': 1.85,
  '16:9': 16 / 9,
  '4:3': 4 / 3,
};

export interface SampleOptions extends StageOptions {
  /** Number of movies. Default 24; integer 1–10000. */
  movies?: number;
  /** Stills per movie. Default 40; integer 1–100000. */
  stills?: number;
  /** Seed of every random choice. Default 7; integer 0–2³²−1. */
  seed?: number;
  /** Long side of each still in pixels (the short side follows the movie's aspect ratio, at least 16). Default 480; 32–4096. */
  width?: number;
  /**
   * Look families: how many (the first n of a seed-dependent order of LOOK_FAMILIES)
   * or which, by name. Movies take them round-robin, so families stay balanced.
   * Default DEFAULT_SAMPLE_FAMILIES (4); 1–LOOK_FAMILIES.length.
   */
  families?: number | readonly string[];
  /** Also write one file of each hostile case (hostile.ts) to `Hostile Cases (2001)`. Default false. */
  withBadFiles?: boolean;
  /** Stills encoded and written at once while the next ones are painted. Default available cores + 1; 1–64. */
  concurrency?: number;
}

/** How a movie's still files are named: `still-001`, `shot-1` or `<title-slug>-1`. */
export type StillNaming = 'padded' | 'plain' | 'slug';

/** Everything about one sample movie except its pixels (those are painted on demand). */
export interface SampleMovie {
  /** 0-based position in the collection. */
  index: number;
  title: string;
  year: number;
  director: string;
  cinematographer: string;
  productionDesign: string;
  costumeDesign: string;
  family: string;
  /** The movie's own look (its family's, jittered). */
  look: Look;
  aspect: SampleAspect;
  /** Pixel size of its stills. */
  width: number;
  height: number;
  /** Folder name relative to the collection: `Title (Year)`. */
  folder: string;
  /** How its stills are saved: share of PNGs (0 all JPEG, 1 all PNG), JPEG quality and flavour, file names. */
  format: {
    pngShare: number;
    jpegQuality: number;
    progressive: boolean;
    /** Black-and-white movies saved as single-channel files. */
    greyscale: boolean;
    naming: StillNaming;
    /** File name stem for `slug` naming. */
    slug: string;
  };
  /** Weights of the compositions its scenes are drawn from. */
  compositions: readonly number[];
  /** The collection seed (every random stream of the movie derives from it and `index`). */
  seed: number;
}

/** Sample options with their defaults filled in and checked. */
export interface ResolvedOptions {
  movies: number;
  stills: number;
  seed: number;
  width: number;
  families: LookFamily[];
}

/** Checks `options` (naming the bad option and value) and fills in the defaults. */
export function resolveOptions(options: SampleOptions): ResolvedOptions {
  const movies = requireInt('movies', options.movies ?? 24, 1, 10000);
  const stills = requireInt('stills', options.stills ?? 40, 1, 100000);
  const seed = requireInt('seed', options.seed ?? 7, 0, 2 ** 32 - 1);
  const width = requireInt('width', options.width ?? 480, 32, 4096);
  const f = options.families ?? DEFAULT_SAMPLE_FAMILIES;
  let families: LookFamily[];
  if (typeof f === 'number') {
    const n = requireInt('families', f, 1, LOOK_FAMILIES.length);
    families = new Random(hashSeed(seed, 'families')).shuffle([...LOOK_FAMILIES]).slice(0, n);
  } else {
    if (!Array.isArray(f) || f.length === 0)
      throw invalidArgument('families', 'a count or a non-empty list of family names', f);
    const names = LOOK_FAMILIES.map((x) => x.name);
    families = f.map((name) => {
      const hit = LOOK_FAMILIES.find((x) => x.name === name);
      if (!hit) throw unknownChoice('look family', String(name), names);
      return hit;
    });
    if (new Set(families).size !== families.length)
      throw invalidArgument('families', 'distinct family names', f.join(','));
  }
  return { movies, stills, seed, width, families };
}

/** The composition kinds a still can be painted as. */
export const SAMPLE_COMPOSITIONS = [
  'landscape',
  'city',
  'interior',
  'portrait',
  'seascape',
  'nightlights',
  'road',
] as const;
export type SampleComposition = (typeof SAMPLE_COMPOSITIONS)[number];

/**
 * The movies of a sample collection (titles, crew, family, look, aspect, formats),
 * without painting anything. Movie k depends only on the seed, k and the movies
 * before it (titles are kept unique), never on how many follow.
 */
export function planSample(
  options: Omit<SampleOptions, 'onProgress' | 'signal' | 'withBadFiles' | 'concurrency'> = {},
): SampleMovie[] {
  const o = resolveOptions(options);
  return planMovies(o);
}

/** The movies of resolved options (see `planSample`). */
export function planMovies(o: ResolvedOptions): SampleMovie[] {
  const out: SampleMovie[] = [];
  const titles = new Set<string>();
  for (let k = 0; k < o.movies; k++) {
    const family = o.families[k % o.families.length];
    const id = new Random(hashSeed(o.seed, 'movie', k, 'identity'));
    const title = inventUniqueTitle(id, titles);
    titles.add(title.toLowerCase());
    const year = family.years[0] + id.int(family.years[1] - family.years[0] + 1);
    const director = inventName(id);
    const cinematographer = inventName(id);
    const productionDesign = inventName(id);
    const costumeDesign = inventName(id);

    const look = jitterLook(family.look, new Random(hashSeed(o.seed, 'movie', k, 'look')));

    // Aspect, formats and scene mix come from a stream of their own, independent of the family,
    // so that nothing but the look tells families apart.
    const fm = new Random(hashSeed(o.seed, 'movie', k, 'format'));
    const aspect = fm.pick(SAMPLE_ASPECTS);
    const ratio = ASPECT_RATIO[aspect];
    // At least 16 px on the short side: smaller stills are rejected as tiny by standardisation.
    const height = Math.max(16, Math.round(o.width / ratio));
    const r = fm.next();
    const pngShare = r < 0.55 ? 0 : r < 0.9 ? fm.range(0.25, 0.6) : 1;
    const jpegQuality = 85 + fm.int(8);
    const progressive = fm.chance(0.15);
    const untoned = look.shadows.every((v) => v === 0) && look.highlights.every((v) => v === 0);
    const greyscale = look.mono && untoned && fm.chance(0.5);
    const naming = fm.weighted<StillNaming>(['padded', 'plain', 'slug'], [5, 3, 2]);
    const compositions = SAMPLE_COMPOSITIONS.map(() => fm.range(0.4, 1));
    out.push({
      index: k,
      title,
      year,
      director,
      cinematographer,
      productionDesign,
      costumeDesign,
      family: family.name,
      look,
      aspect,
      width: o.width,
      height,
      folder: `${title} (${year})`,
      format: { pngShare, jpegQuality, progressive, greyscale, naming, slug: slugify(title) || 'still' },
      compositions,
      seed: o.seed,
    });
  }
  return out;
}

/**
 * File name and format of still `index` (0-based) of a movie with `stills` stills.
 * Unpadded names (`shot-2.jpg`, `shot-10.jpg`) sort differently by natural and by
 * plain string order, as many real collections do.
 */
export function sampleStillFile(
  movie: SampleMovie,
  index: number,
  stills: number,
): { name: string; format: 'jpeg' | 'png' } {
  const f = movie.format;
  const rng = new Random(hashSeed(movie.seed, 'movie', movie.index, 'still', index, 'file'));
  const format = f.pngShare >= 1 || (f.pngShare > 0 && rng.next() < f.pngShare) ? 'png' : 'jpeg';
  const ext = format === 'png' ? 'png' : 'jpg';
  const n = index + 1;
  const stem =
    f.naming === 'padded'
      ? `still-${String(n).padStart(Math.max(3, String(stills).length), '0')}`
      : f.naming === 'plain'
        ? `shot-${n}`
        : `${f.slug}-${n}`;
  return { name: `${stem}.${ext}`, format };
}
