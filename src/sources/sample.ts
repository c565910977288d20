/**
 * `filmatlas sample DIR`: a deterministic synthetic collection of film stills, so
 * the whole product can be tried, tested and benchmarked offline.
 *
 * Every movie belongs to one *look family* (LOOK_FAMILIES: teal-orange, noir,
 * blue night, ...) and carries its own slightly jittered version of the family's
 * grade. Stills are painted as scenes (landscapes, streets, rooms, portraits,
 * seascapes, night lights, roads) in float RGB, lit by a time of day, then graded
 * with the movie's look (exposure, saturation, split toning, white balance,
 * contrast curve, lift/gamma/gain, vignette, grain) and encoded by sharp as JPEG
 * or PNG. `movies.csv` records each movie's family: the ground truth later quality
 * checks (similar movies, clusters) are measured against.
 *
 * Determinism: every movie, scene and still draws from its own stream derived
 * with `hashSeed(seed, 'movie', k, ...)`, so the same seed and options give
 * byte-identical files, and a collection of 24 movies starts with exactly the
 * collection of 10 (and 40 stills per movie start with exactly 10).
 */
import { availableParallelism } from 'node:os';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { AtlasError, invalidArgument, throwIfAborted, unknownChoice } from '../errors.js';
import { hashSeed, Random } from '../numeric/random.js';
import type { RawImage, StageOptions } from '../types.js';
import { parseCsv, toCsv } from './csv.js';
import { writeHostileFiles } from './hostile.js';

// ---------------------------------------------------------------------------------------------
// Looks

/** An RGB triple of floats (0–1 for colours; signed offsets for tints). */
export type LookRgb = readonly [number, number, number];

/**
 * A colour grade, applied to a scene rendered in float RGB (0–1, lights may exceed 1),
 * in this order: exposure → highlight roll-off → saturation (or black and white) →
 * split toning → white balance → contrast curve → lift/gamma/gain → vignette → grain.
 */
export interface Look {
  /** Scene brightness multiplier (low-key night looks < 1), 0.2–2. */
  exposure: number;
  /** Chroma multiplier around luma: 0 grey, 1 unchanged, up to 2. Ignored when `mono`. */
  saturation: number;
  /** Colour added in the shadows, weighted by (1 − luma)²; components about ±0.2. */
  shadows: LookRgb;
  /** Colour added in the highlights, weighted by luma²; components about ±0.2. */
  highlights: LookRgb;
  /** Per-channel gain before the curve (white balance), each 0.5–1.5. */
  balance: LookRgb;
  /** Steepness of the S-shaped contrast curve about mid-grey: 0 linear, 4 punchy, 10 harsh. */
  contrast: number;
  /** Output black level (raised blacks look faded), 0–0.4. */
  lift: number;
  /** Midtone power: > 1 brightens midtones, 0.5–2. */
  gamma: number;
  /** Output white level, 0.5–1.2. */
  gain: number;
  /** Black and white: colour is replaced by luma before toning (toning may tint it, as sepia does). */
  mono: boolean;
  /** Standard deviation of film grain in 0–1 units, 0–0.15. */
  grain: number;
  /** Darkening at the corners, 0 none – 0.8 heavy. */
  vignette: number;
}

export type TimeOfDay = 'day' | 'golden' | 'night' | 'overcast';
const TIMES: readonly TimeOfDay[] = ['day', 'golden', 'night', 'overcast'];

export interface LookFamily {
  /** Short name written to movies.csv's `family` column. */
  name: string;
  description: string;
  /** The family's grade; each movie jitters it a little (`jitterLook`). */
  look: Look;
  /** Release years of its movies (inclusive); black-and-white families are older. */
  years: readonly [number, number];
  /** Weights of the times of day its scenes are set at, in the order day, golden, night, overcast. */
  times: readonly [number, number, number, number];
}

/**
 * The look families. Chosen to be told apart by colour statistics alone (hue of the
 * split tones, saturation, key, contrast), as real grades are: later quality checks
 * count a similar-movie hit when both movies share a family.
 */
export const LOOK_FAMILIES: readonly LookFamily[] = [
  {
    name: 'teal-orange',
    description: 'blockbuster complementary grade: teal shadows, orange skin and highlights, punchy contrast',
    look: {
      exposure: 1.0,
      saturation: 0.75,
      shadows: [-0.2, 0.06, 0.17],
      highlights: [0.14, 0.04, -0.13],
      balance: [0.95, 1.0, 1.05],
      contrast: 4.5,
      lift: 0.01,
      gamma: 1.0,
      gain: 1.0,
      mono: false,
      grain: 0.012,
      vignette: 0.25,
    },
    years: [1995, 2024],
    times: [0.5, 0.2, 0.2, 0.1],
  },
  {
    name: 'bleach-bypass',
    description: 'silver retained: desaturated, harsh contrast, cold steely greens',
    look: {
      exposure: 1.05,
      saturation: 0.33,
      shadows: [-0.03, 0.03, 0.01],
      highlights: [-0.02, 0.02, 0.0],
      balance: [0.94, 1.0, 0.99],
      contrast: 6.5,
      lift: 0.0,
      gamma: 0.95,
      gain: 1.04,
      mono: false,
      grain: 0.035,
      vignette: 0.3,
    },
    years: [1985, 2015],
    times: [0.35, 0.1, 0.15, 0.4],
  },
  {
    name: 'noir',
    description: 'black-and-white noir: hard contrast, deep blacks, heavy grain and vignette',
    look: {
      exposure: 1.1,
      saturation: 0,
      shadows: [0, 0, 0],
      highlights: [0, 0, 0],
      balance: [1, 1, 1],
      contrast: 6.5,
      lift: 0.0,
      gamma: 1.0,
      gain: 1.04,
      mono: true,
      grain: 0.055,
      vignette: 0.5,
    },
    years: [1927, 1962],
    times: [0.15, 0.05, 0.6, 0.2],
  },
  {
    name: 'sepia',
    description: 'toned silent-era print: monochrome brown, soft contrast, faded blacks, grain',
    look: {
      exposure: 0.95,
      saturation: 0,
      shadows: [0.07, 0.015, -0.07],
      highlights: [0.1, 0.035, -0.1],
      balance: [1, 1, 1],
      contrast: 3.5,
      lift: 0.05,
      gamma: 1.0,
      gain: 0.9,
      mono: true,
      grain: 0.045,
      vignette: 0.45,
    },
    years: [1920, 1940],
    times: [0.5, 0.2, 0.1, 0.2],
  },
  {
    name: 'golden-hour',
    description: 'warm amber nostalgia: golden highlights, honeyed shadows, soft contrast',
    look: {
      exposure: 1.0,
      saturation: 0.95,
      shadows: [0.07, 0.015, -0.08],
      highlights: [0.12, 0.05, -0.12],
      balance: [1.12, 1.0, 0.78],
      contrast: 4.5,
      lift: 0.02,
      gamma: 1.05,
      gain: 1.0,
      mono: false,
      grain: 0.02,
      vignette: 0.2,
    },
    years: [1965, 2020],
    times: [0.3, 0.6, 0.05, 0.05],
  },
  {
    name: 'blue-night',
    description: 'cold low-key night: everything blue, dark and moody',
    look: {
      exposure: 0.7,
      saturation: 0.45,
      shadows: [-0.06, 0.0, 0.12],
      highlights: [-0.06, 0.02, 0.1],
      balance: [0.8, 0.93, 1.18],
      contrast: 4,
      lift: 0.02,
      gamma: 0.9,
      gain: 1.0,
      mono: false,
      grain: 0.03,
      vignette: 0.35,
    },
    years: [1975, 2024],
    times: [0.15, 0.05, 0.75, 0.05],
  },
  {
    name: 'faded-pastel',
    description: 'washed-out pastel: lifted blacks, flat contrast, pink highlights and mint shadows',
    look: {
      exposure: 1.2,
      saturation: 0.85,
      shadows: [-0.05, 0.07, 0.05],
      highlights: [0.07, -0.03, 0.06],
      balance: [1.0, 1.0, 1.0],
      contrast: 0.5,
      lift: 0.15,
      gamma: 1.1,
      gain: 0.92,
      mono: false,
      grain: 0.015,
      vignette: 0.1,
    },
    years: [1970, 2024],
    times: [0.6, 0.2, 0.05, 0.15],
  },
  {
    name: 'neon',
    description: 'neon-noir: saturated magenta shadows and acid-green highlights in the dark',
    look: {
      exposure: 0.85,
      saturation: 1.25,
      shadows: [0.17, -0.06, 0.05],
      highlights: [-0.08, 0.15, 0.04],
      balance: [1.0, 0.95, 0.88],
      contrast: 5,
      lift: 0.0,
      gamma: 0.95,
      gain: 1.0,
      mono: false,
      grain: 0.025,
      vignette: 0.3,
    },
    years: [1980, 2024],
    times: [0.05, 0.1, 0.85, 0.0],
  },
];

/**
 * How many look families a sample uses unless told. Four, so that the default 24
 * movies give 6 per family: a family of n movies gives each movie at most n − 1
 * true neighbours, and the similar-movie precision@5 check needs at least 5.
 */
export const DEFAULT_SAMPLE_FAMILIES = 4;

const clampTo = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** A movie's own version of its family's look: every parameter moved a little. */
export function jitterLook(base: Look, rng: Random): Look {
  const tint = (t: LookRgb): LookRgb => [
    t[0] + rng.normal(0, 0.012),
    t[1] + rng.normal(0, 0.012),
    t[2] + rng.normal(0, 0.012),
  ];
  const vary = (v: number, sd: number): number => v * Math.exp(rng.normal(0, sd));
  return {
    exposure: clampTo(vary(base.exposure, 0.06), 0.2, 2),
    saturation: clampTo(vary(base.saturation, 0.08), 0, 2),
    shadows: base.mono && base.shadows.every((v) => v === 0) ? base.shadows : tint(base.shadows),
    highlights: base.mono && base.highlights.every((v) => v === 0) ? base.highlights : tint(base.highlights),
    balance: base.mono
      ? base.balance
      : [
          clampTo(vary(base.balance[0], 0.02), 0.5, 1.5),
          clampTo(vary(base.balance[1], 0.02), 0.5, 1.5),
          clampTo(vary(base.balance[2], 0.02), 0.5, 1.5),
        ],
    contrast: clampTo(vary(Math.max(base.contrast, 0.05), 0.1), 0, 12),
    lift: clampTo(base.lift + rng.normal(0, 0.012), 0, 0.4),
    gamma: clampTo(vary(base.gamma, 0.04), 0.5, 2),
    gain: clampTo(vary(base.gain, 0.025), 0.5, 1.2),
    mono: base.mono,
    grain: clampTo(vary(base.grain, 0.2), 0, 0.15),
    vignette: clampTo(base.vignette + rng.normal(0, 0.05), 0, 0.8),
  };
}

// ---------------------------------------------------------------------------------------------
// Options, plan

export const SAMPLE_ASPECTS = ['2.39:1', '1.85:1', '16:9', '4:3'] as const;
export type SampleAspect = (typeof SAMPLE_ASPECTS)[number];
const ASPECT_RATIO: Record<SampleAspect, number> = {
  '2.39:1': 2.39,
  '1.85:1': 1.85,
  '16:9': 16 / 9,
  '4:3': 4 / 3,
};

/** The header of a sample's movies.csv, exactly. */
export const SAMPLE_MANIFEST_HEADER = [
  'title',
  'year',
  'director',
  'director_of_photography',
  'production_design',
  'costume_design',
  'family',
  'aspect',
  'folder',
] as const;

/** The folder `--with-bad-files` writes the hostile cases to. */
export const HOSTILE_FOLDER = 'Hostile Cases (2001)';

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

export interface SampleResult {
  /** Absolute path of the collection. */
  dir: string;
  /** Movies generated (not counting the hostile-cases folder). */
  movies: number;
  /** Stills generated in all (not counting hostile files). */
  stills: number;
  /** Look families used, in round-robin order. */
  families: string[];
  /** Hostile files written (0 without `withBadFiles`). */
  badFiles: number;
  /** Path of movies.csv. */
  manifest: string;
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

function checkInt(name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw invalidArgument(name, `an integer ${lo}–${hi}`, v);
  }
  return v;
}

interface ResolvedOptions {
  movies: number;
  stills: number;
  seed: number;
  width: number;
  families: LookFamily[];
}

function resolveOptions(options: SampleOptions): ResolvedOptions {
  const movies = checkInt('movies', options.movies ?? 24, 1, 10000);
  const stills = checkInt('stills', options.stills ?? 40, 1, 100000);
  const seed = checkInt('seed', options.seed ?? 7, 0, 2 ** 32 - 1);
  const width = checkInt('width', options.width ?? 480, 32, 4096);
  const f = options.families ?? DEFAULT_SAMPLE_FAMILIES;
  let families: LookFamily[];
  if (typeof f === 'number') {
    const n = checkInt('families', f, 1, LOOK_FAMILIES.length);
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

const ADJECTIVES = [
  'Silent',
  'Last',
  'Long',
  'Broken',
  'Golden',
  'Hidden',
  'Crimson',
  'Distant',
  'Burning',
  'Quiet',
  'Cold',
  'Empty',
  'Lost',
  'Paper',
  'Glass',
  'Iron',
  'Velvet',
  'Hollow',
  'Bright',
  'Final',
  'Secret',
  'Wild',
  'Blue',
  'Pale',
  'Northern',
  'Electric',
  'Sleeping',
  'Falling',
  'Forgotten',
  'Midnight',
  'Restless',
  'Salt',
  'Winter',
  'Second',
  'Borrowed',
  'Drowned',
  'Little',
  'Endless',
  'Crooked',
  'Sudden',
];
const NOUNS = [
  'River',
  'Harbour',
  'Night',
  'Garden',
  'Mirror',
  'City',
  'Summer',
  'Road',
  'House',
  'Station',
  'Island',
  'Shadow',
  'Light',
  'Storm',
  'Orchard',
  'Tower',
  'Hotel',
  'Machine',
  'Letter',
  'Season',
  'Horizon',
  'Desert',
  'Frontier',
  'Lantern',
  'Signal',
  'Border',
  'Valley',
  'Coast',
  'Carousel',
  'Bridge',
  'Window',
  'Orchestra',
  'Kingdom',
  'Echo',
  'Tide',
  'Voyage',
  'Promise',
  'Witness',
  'Circus',
  'Lighthouse',
];
const PLACES = [
  'Marseille',
  'Lisbon',
  'Trieste',
  'Oslo',
  'Havana',
  'Kyoto',
  'Tangier',
  'Odessa',
  'Valparaíso',
  'Reykjavík',
  'Naples',
  'Galway',
];
const FAREWELLS = ['Goodbye', 'Farewell', 'Hello', 'Remember', 'Listen'];
const FIRST_NAMES = [
  'Marta',
  'Jonas',
  'Aiko',
  'Tomás',
  'Ingrid',
  'Rafael',
  'Noor',
  'Pavel',
  'Léa',
  'Kwame',
  'Sofia',
  'Henrik',
  'Mei',
  'Dario',
  'Amara',
  'Felix',
  'Yusuf',
  'Clara',
  'Bruno',
  'Ana',
  'Oskar',
  'Priya',
  'Luca',
  'Elif',
  'Mateo',
  'Greta',
  'Kenji',
  'Zofia',
  'Idris',
  'Margot',
  'Ravi',
  'Hanna',
  'Emil',
  'Selma',
  'Nico',
  'Ilse',
  'Tariq',
  'Vera',
  'Anselm',
  'June',
];
const SURNAMES = [
  'Lindqvist',
  'Moreau',
  'Okafor',
  'Tanaka',
  'Castellano',
  'Novak',
  'Brennan',
  'Haddad',
  'Kowalski',
  'Ferreira',
  'Achterberg',
  'Santoro',
  'Whitlock',
  'Ivanova',
  'Delacroix',
  'Mbeki',
  'Halloran',
  'Szabo',
  'Esposito',
  'Rahimi',
  'Vidal',
  'Kaur',
  'Oyelaran',
  'Lindgren',
  'Marchetti',
  "O'Donnell",
  'Dubois',
  'Yamamoto',
  'Petrov',
  'Quintero',
  'Abernathy',
  'Virtanen',
  'Castro',
  'Falk',
  'Nakamura',
  'Rossi',
  'Adeyemi',
  'Van Dijk',
  'Sørensen',
  'Holloway',
];
const ROMAN = ['II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X'];

function inventTitle(rng: Random): string {
  const pattern = rng.weighted([0, 1, 2, 3, 4, 5], [4, 3, 2, 1, 1, 1]);
  switch (pattern) {
    case 0:
      return `The ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
    case 1:
      return `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
    case 2:
      return `The ${rng.pick(NOUNS)} of the ${rng.pick(NOUNS)}`;
    case 3: {
      const noun = rng.pick(NOUNS);
      return `${/^[AEIOU]/.test(noun) ? 'An' : 'A'} ${noun} in ${rng.pick(PLACES)}`;
    }
    case 4:
      return `${rng.pick(FIRST_NAMES)}'s ${rng.pick(NOUNS)}`;
    default:
      // A comma in a title: movies.csv must quote it.
      return `${rng.pick(FAREWELLS)}, ${rng.pick(NOUNS)}`;
  }
}

const inventName = (rng: Random): string => `${rng.pick(FIRST_NAMES)} ${rng.pick(SURNAMES)}`;

function slugify(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
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

function planMovies(o: ResolvedOptions): SampleMovie[] {
  const out: SampleMovie[] = [];
  const titles = new Set<string>();
  for (let k = 0; k < o.movies; k++) {
    const family = o.families[k % o.families.length];
    const id = new Random(hashSeed(o.seed, 'movie', k, 'identity'));
    let title = inventTitle(id);
    for (let tries = 0; titles.has(title.toLowerCase()) && tries < 40; tries++) title = inventTitle(id);
    for (let n = 0; titles.has(title.toLowerCase()); n++) {
      const base = title.replace(/ [IVX]+$/, '');
      title = `${base} ${ROMAN[n % ROMAN.length]}${n >= ROMAN.length ? ` ${Math.floor(n / ROMAN.length) + 1}` : ''}`;
    }
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

// ---------------------------------------------------------------------------------------------
// Painting

type Rgb = LookRgb;

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [
  a[0] + (b[0] - a[0]) * t,
  a[1] + (b[1] - a[1]) * t,
  a[2] + (b[2] - a[2]) * t,
];
const mul = (a: Rgb, b: Rgb): Rgb => [a[0] * b[0], a[1] * b[1], a[2] * b[2]];
const scale = (a: Rgb, s: number): Rgb => [a[0] * s, a[1] * s, a[2] * s];

/** HSV (h in turns, s and v 0–1) to RGB. */
function hsv(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (((i % 6) + 6) % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

/** Smooth fractal value noise, 256×256, wrapping: texture for grounds, walls and water. */
const NOISE_SIZE = 256;
const MASK = NOISE_SIZE - 1;
let noiseTile: Float32Array | undefined;
function noise(): Float32Array {
  if (noiseTile) return noiseTile;
  const N = NOISE_SIZE;
  const tile = new Float32Array(N * N);
  const rng = new Random('filmatlas sample noise');
  let amp = 0.5;
  for (let cells = 8; cells <= 64; cells *= 2, amp *= 0.5) {
    const grid = new Float32Array(cells * cells);
    for (let i = 0; i < grid.length; i++) grid[i] = rng.next();
    const step = N / cells;
    for (let y = 0; y < N; y++) {
      const gy = y / step;
      const y0 = Math.floor(gy);
      let ty = gy - y0;
      ty = ty * ty * (3 - 2 * ty);
      const r0 = (y0 % cells) * cells;
      const r1 = ((y0 + 1) % cells) * cells;
      for (let x = 0; x < N; x++) {
        const gx = x / step;
        const x0 = Math.floor(gx);
        let tx = gx - x0;
        tx = tx * tx * (3 - 2 * tx);
        const c0 = x0 % cells;
        const c1 = (x0 + 1) % cells;
        const top = grid[r0 + c0] + (grid[r0 + c1] - grid[r0 + c0]) * tx;
        const bot = grid[r1 + c0] + (grid[r1 + c1] - grid[r1 + c0]) * tx;
        tile[y * N + x] += amp * (top + (bot - top) * ty);
      }
    }
  }
  // Normalise to mean 0, range about ±0.5.
  let mean = 0;
  for (let i = 0; i < tile.length; i++) mean += tile[i];
  mean /= tile.length;
  for (let i = 0; i < tile.length; i++) tile[i] = (tile[i] - mean) * 1.6;
  noiseTile = tile;
  return tile;
}

/** A float RGB canvas with the few drawing operations the scenes need (antialiased where it shows). */
class Canvas {
  readonly px: Float32Array;
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    this.px = new Float32Array(w * h * 3);
  }

  /** Vertical gradient over rows [y0, y1), whole width. */
  gradient(y0: number, y1: number, top: Rgb, bottom: Rgb): void {
    const { w, h, px } = this;
    const a = Math.max(0, Math.floor(y0));
    const b = Math.min(h, Math.ceil(y1));
    const span = Math.max(1e-6, y1 - y0);
    for (let y = a; y < b; y++) {
      const t = clampTo((y + 0.5 - y0) / span, 0, 1);
      const r = top[0] + (bottom[0] - top[0]) * t;
      const g = top[1] + (bottom[1] - top[1]) * t;
      const bl = top[2] + (bottom[2] - top[2]) * t;
      for (let p = y * w * 3, e = p + w * 3; p < e; p += 3) {
        px[p] = r;
        px[p + 1] = g;
        px[p + 2] = bl;
      }
    }
  }

  /**
   * Fills each column x from `tops[x]` down to `bottom` with a vertical gradient
   * running from `cTop` at y = gy0 to `cBottom` at y = gy1 (antialiased top edge).
   */
  columns(
    tops: Float32Array,
    bottom: number,
    cTop: Rgb,
    cBottom: Rgb,
    gy0: number,
    gy1: number,
    alpha = 1,
  ): void {
    const { w, h, px } = this;
    const yb = Math.min(h, Math.ceil(bottom));
    const span = Math.max(1e-6, gy1 - gy0);
    for (let x = 0; x < w; x++) {
      const top = tops[x];
      for (let y = Math.max(0, Math.floor(top)); y < yb; y++) {
        const a = alpha * Math.min(1, y + 1 - top);
        if (a <= 0) continue;
        const t = clampTo((y + 0.5 - gy0) / span, 0, 1);
        const p = (y * w + x) * 3;
        px[p] += (cTop[0] + (cBottom[0] - cTop[0]) * t - px[p]) * a;
        px[p + 1] += (cTop[1] + (cBottom[1] - cTop[1]) * t - px[p + 1]) * a;
        px[p + 2] += (cTop[2] + (cBottom[2] - cTop[2]) * t - px[p + 2]) * a;
      }
    }
  }

  /** Axis-aligned rectangle [x0, x1) × [y0, y1) with fractional edge coverage. */
  rect(x0: number, y0: number, x1: number, y1: number, c: Rgb, alpha = 1): void {
    const { w, h, px } = this;
    const xa = Math.max(0, Math.floor(x0));
    const xb = Math.min(w, Math.ceil(x1));
    const ya = Math.max(0, Math.floor(y0));
    const yb = Math.min(h, Math.ceil(y1));
    for (let y = ya; y < yb; y++) {
      const cy = Math.min(y + 1, y1) - Math.max(y, y0);
      for (let x = xa; x < xb; x++) {
        const cx = Math.min(x + 1, x1) - Math.max(x, x0);
        const a = alpha * cx * cy;
        const p = (y * w + x) * 3;
        px[p] += (c[0] - px[p]) * a;
        px[p + 1] += (c[1] - px[p + 1]) * a;
        px[p + 2] += (c[2] - px[p + 2]) * a;
      }
    }
  }

  /**
   * Filled ellipse. With `shade`, brightness falls off across it like a lit solid:
   * `shade.dir` (−1 light from the left … 1 from the right) and `shade.ambient` (the dark side's level).
   */
  ellipse(
    cx: number,
    cy: number,
    rx: number,
    ry: number,
    c: Rgb,
    alpha = 1,
    shade?: { dir: number; ambient: number },
  ): void {
    const { w, h, px } = this;
    if (rx <= 0 || ry <= 0) return;
    const xa = Math.max(0, Math.floor(cx - rx - 1));
    const xb = Math.min(w, Math.ceil(cx + rx + 1));
    const ya = Math.max(0, Math.floor(cy - ry - 1));
    const yb = Math.min(h, Math.ceil(cy + ry + 1));
    const rmin = Math.min(rx, ry);
    for (let y = ya; y < yb; y++) {
      const dy = (y + 0.5 - cy) / ry;
      for (let x = xa; x < xb; x++) {
        const dx = (x + 0.5 - cx) / rx;
        const q = Math.sqrt(dx * dx + dy * dy);
        let a = (1 - q) * rmin + 0.5;
        if (a <= 0) continue;
        if (a > 1) a = 1;
        a *= alpha;
        let s = 1;
        if (shade) {
          const l = clampTo(0.5 + 0.7 * shade.dir * dx - 0.25 * dy, 0, 1);
          s = shade.ambient + (1 - shade.ambient) * l * l * (3 - 2 * l);
        }
        const p = (y * w + x) * 3;
        px[p] += (c[0] * s - px[p]) * a;
        px[p + 1] += (c[1] * s - px[p + 1]) * a;
        px[p + 2] += (c[2] * s - px[p + 2]) * a;
      }
    }
  }

  /** Convex polygon (points x0, y0, x1, y1, ...), filled row by row with fractional coverage at the row ends. */
  convex(pts: readonly number[], c: Rgb, alpha = 1): void {
    const { w, h, px } = this;
    const n = pts.length >> 1;
    let ymin = Infinity;
    let ymax = -Infinity;
    for (let i = 0; i < n; i++) {
      ymin = Math.min(ymin, pts[2 * i + 1]);
      ymax = Math.max(ymax, pts[2 * i + 1]);
    }
    const ya = Math.max(0, Math.floor(ymin));
    const yb = Math.min(h, Math.ceil(ymax));
    for (let y = ya; y < yb; y++) {
      const yc = y + 0.5;
      let xl = Infinity;
      let xr = -Infinity;
      for (let i = 0; i < n; i++) {
        const ax = pts[2 * i];
        const ay = pts[2 * i + 1];
        const bx = pts[(2 * i + 2) % (2 * n)];
        const by = pts[(2 * i + 3) % (2 * n)];
        if ((ay <= yc && by > yc) || (by <= yc && ay > yc)) {
          const xi = ax + ((yc - ay) / (by - ay)) * (bx - ax);
          if (xi < xl) xl = xi;
          if (xi > xr) xr = xi;
        }
      }
      if (!(xr > xl)) continue;
      const cy = Math.min(1, Math.min(y + 1, ymax) - Math.max(y, ymin));
      const xa = Math.max(0, Math.floor(xl));
      const xb = Math.min(w, Math.ceil(xr));
      for (let x = xa; x < xb; x++) {
        const cx = Math.min(x + 1, xr) - Math.max(x, xl);
        const a = alpha * cx * cy;
        const p = (y * w + x) * 3;
        px[p] += (c[0] - px[p]) * a;
        px[p + 1] += (c[1] - px[p + 1]) * a;
        px[p + 2] += (c[2] - px[p + 2]) * a;
      }
    }
  }

  /** Additive light: a glow of `intensity` falling off as 1/(1 + d²/r²)², stretched by sx, sy. */
  glow(cx: number, cy: number, r: number, c: Rgb, intensity: number, sx = 1, sy = 1): void {
    const { w, h, px } = this;
    if (r <= 0 || intensity <= 0) return;
    const rx = r * sx;
    const ry = r * sy;
    const xa = Math.max(0, Math.floor(cx - 4 * rx));
    const xb = Math.min(w, Math.ceil(cx + 4 * rx));
    const ya = Math.max(0, Math.floor(cy - 4 * ry));
    const yb = Math.min(h, Math.ceil(cy + 4 * ry));
    const cut = 1 / 289; // the falloff at 4 r, subtracted so the glow ends without a seam
    for (let y = ya; y < yb; y++) {
      const dy = (y + 0.5 - cy) / ry;
      const dy2 = dy * dy;
      for (let x = xa; x < xb; x++) {
        const dx = (x + 0.5 - cx) / rx;
        const q = 1 + dx * dx + dy2;
        const g = (1 / (q * q) - cut) * intensity;
        if (g <= 0) continue;
        const p = (y * w + x) * 3;
        px[p] += c[0] * g;
        px[p + 1] += c[1] * g;
        px[p + 2] += c[2] * g;
      }
    }
  }

  /**
   * Multiplies rows [y0, y1) by 1 + amount · noise, the noise laid on a ground plane
   * seen in perspective from a horizon at `horizon` (rows near it get compressed).
   */
  groundTexture(
    y0: number,
    y1: number,
    horizon: number,
    amount: number,
    scaleX: number,
    offX: number,
    offY: number,
    stretch = 1,
  ): void {
    const { w, h, px } = this;
    const t = noise();
    const N = NOISE_SIZE;
    const ya = Math.max(0, Math.floor(y0));
    const yb = Math.min(h, Math.ceil(y1));
    for (let y = ya; y < yb; y++) {
      // A ground plane: a row `depth` pixels below the horizon lies at distance ∝ 1/depth, and one
      // pixel across it spans ∝ 1/depth of the plane; texture fades out near the horizon, where it would alias.
      const depth = Math.max(1, y + 0.5 - horizon);
      const v = offY + (h * scaleX * stretch) / depth;
      const su = scaleX / depth;
      const fade = amount * Math.min(1, depth / (0.12 * h));
      // Integer wrap by masking (N is a power of two): `%` on doubles would cost more than the lookup.
      const vi = Math.floor(v);
      const vf = v - vi;
      const r0 = (vi & MASK) * N;
      const r1 = ((vi + 1) & MASK) * N;
      for (let x = 0; x < w; x++) {
        const u = offX + (x - w / 2) * su;
        const ui = Math.floor(u);
        const uf = u - ui;
        const c0 = ui & MASK;
        const c1 = (ui + 1) & MASK;
        const top = t[r0 + c0] + (t[r0 + c1] - t[r0 + c0]) * uf;
        const bot = t[r1 + c0] + (t[r1 + c1] - t[r1 + c0]) * uf;
        const m = 1 + fade * (top + (bot - top) * vf);
        const p = (y * w + x) * 3;
        px[p] *= m;
        px[p + 1] *= m;
        px[p + 2] *= m;
      }
    }
  }

  /** Multiplies a rectangle by 1 + amount · noise (flat texture: walls, plaster, skies). */
  flatTexture(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    amount: number,
    cell: number,
    offX: number,
    offY: number,
  ): void {
    const { w, h, px } = this;
    const t = noise();
    const N = NOISE_SIZE;
    const xa = Math.max(0, Math.floor(x0));
    const xb = Math.min(w, Math.ceil(x1));
    const ya = Math.max(0, Math.floor(y0));
    const yb = Math.min(h, Math.ceil(y1));
    const inv = 1 / Math.max(0.05, cell);
    for (let y = ya; y < yb; y++) {
      const row = Math.floor(offY + y * inv) & MASK;
      for (let x = xa; x < xb; x++) {
        const col = Math.floor(offX + x * inv) & MASK;
        const m = 1 + amount * t[row * N + col];
        const p = (y * w + x) * 3;
        px[p] *= m;
        px[p + 1] *= m;
        px[p + 2] *= m;
      }
    }
  }

  /** Blends rows [y0, y1) toward `c` (fog, haze), alpha ramping from a0 at y0 to a1 at y1. */
  haze(y0: number, y1: number, c: Rgb, a0: number, a1: number): void {
    const { w, h, px } = this;
    const ya = Math.max(0, Math.floor(y0));
    const yb = Math.min(h, Math.ceil(y1));
    const span = Math.max(1e-6, y1 - y0);
    for (let y = ya; y < yb; y++) {
      const a = a0 + (a1 - a0) * clampTo((y + 0.5 - y0) / span, 0, 1);
      for (let p = y * w * 3, e = p + w * 3; p < e; p += 3) {
        px[p] += (c[0] - px[p]) * a;
        px[p + 1] += (c[1] - px[p + 1]) * a;
        px[p + 2] += (c[2] - px[p + 2]) * a;
      }
    }
  }
}

interface Sky {
  top: Rgb;
  horizon: Rgb;
  /** Colour and strength of the light falling on things. */
  light: Rgb;
  /** Light on the shadow side and from the sky. */
  ambient: Rgb;
}

function skyFor(time: TimeOfDay, rng: Random): Sky {
  const j = (c: Rgb, s: number): Rgb => [
    Math.max(0, c[0] * (1 + rng.normal(0, s))),
    Math.max(0, c[1] * (1 + rng.normal(0, s))),
    Math.max(0, c[2] * (1 + rng.normal(0, s))),
  ];
  switch (time) {
    case 'day':
      return {
        top: j([0.22, 0.42, 0.78], 0.08),
        horizon: j([0.7, 0.8, 0.9], 0.05),
        light: j([1.0, 0.96, 0.9], 0.03),
        ambient: [0.35, 0.4, 0.5],
      };
    case 'golden':
      return {
        top: j([0.3, 0.32, 0.58], 0.1),
        horizon: j([1.0, 0.62, 0.32], 0.07),
        light: j([1.0, 0.7, 0.42], 0.05),
        ambient: [0.3, 0.25, 0.3],
      };
    case 'night':
      return {
        top: j([0.02, 0.03, 0.07], 0.2),
        horizon: j([0.1, 0.11, 0.2], 0.15),
        light: j([0.2, 0.22, 0.32], 0.1),
        ambient: [0.07, 0.08, 0.12],
      };
    default:
      return {
        top: j([0.52, 0.55, 0.58], 0.05),
        horizon: j([0.75, 0.76, 0.76], 0.04),
        light: j([0.64, 0.65, 0.67], 0.04),
        ambient: [0.4, 0.42, 0.45],
      };
  }
}

const TERRAINS: readonly Rgb[] = [
  [0.24, 0.38, 0.14], // grass
  [0.72, 0.6, 0.42], // sand
  [0.22, 0.22, 0.24], // asphalt
  [0.4, 0.32, 0.24], // earth
  [0.82, 0.85, 0.9], // snow
  [0.35, 0.4, 0.3], // scrub
];
const WALLS: readonly Rgb[] = [
  [0.78, 0.7, 0.58],
  [0.55, 0.3, 0.22],
  [0.6, 0.6, 0.62],
  [0.35, 0.45, 0.4],
  [0.7, 0.55, 0.5],
  [0.3, 0.32, 0.45],
  [0.85, 0.82, 0.75],
];
const SKIN: readonly Rgb[] = [
  [0.95, 0.75, 0.62],
  [0.85, 0.62, 0.48],
  [0.62, 0.42, 0.3],
  [0.4, 0.27, 0.2],
];
const LAMPS: readonly Rgb[] = [
  [1.0, 0.72, 0.38],
  [1.0, 0.82, 0.55],
  [0.75, 0.95, 0.9],
  [1.0, 0.25, 0.75],
  [0.2, 0.85, 1.0],
  [1.0, 0.2, 0.15],
  [0.5, 1.0, 0.4],
];

interface Scene {
  c: Canvas;
  /** The scene's layout stream: the same for every still of the scene. */
  rng: Random;
  /** This still's stream: camera pan, figures moving, flicker. */
  jr: Random;
  time: TimeOfDay;
  sky: Sky;
  /** Horizontal camera offset of this still, in pixels. */
  pan: number;
}

function clothing(rng: Random): Rgb {
  return hsv(rng.next(), rng.range(0.15, 0.7), rng.range(0.12, 0.6));
}

/** A standing person: head, torso (coat or jacket), legs; `hat` for the noir silhouette. */
function figure(
  c: Canvas,
  x: number,
  foot: number,
  height: number,
  col: Rgb,
  skin: Rgb,
  stride: number,
  hat: boolean,
  coat: boolean,
): void {
  const hh = height;
  const shoulder = foot - 0.82 * hh;
  const hip = foot - 0.47 * hh;
  const sw = 0.13 * hh;
  const legs = scale(col, 0.7);
  c.convex(
    [
      x - 0.07 * hh,
      hip,
      x - 0.01 * hh,
      hip,
      x - 0.02 * hh - stride * 0.08 * hh,
      foot,
      x - 0.07 * hh - stride * 0.12 * hh,
      foot,
    ],
    legs,
  );
  c.convex(
    [
      x + 0.01 * hh,
      hip,
      x + 0.07 * hh,
      hip,
      x + 0.07 * hh + stride * 0.12 * hh,
      foot,
      x + 0.02 * hh + stride * 0.08 * hh,
      foot,
    ],
    legs,
  );
  const bottom = coat ? foot - 0.2 * hh : hip + 0.03 * hh;
  c.convex(
    [
      x - sw,
      shoulder,
      x + sw,
      shoulder,
      x + (coat ? 0.12 : 0.085) * hh,
      bottom,
      x - (coat ? 0.12 : 0.085) * hh,
      bottom,
    ],
    col,
  );
  c.convex(
    [
      x - sw,
      shoulder,
      x - sw + 0.045 * hh,
      shoulder,
      x - sw + 0.02 * hh,
      hip + 0.02 * hh,
      x - sw - 0.02 * hh,
      hip,
    ],
    col,
  );
  c.convex(
    [
      x + sw - 0.045 * hh,
      shoulder,
      x + sw,
      shoulder,
      x + sw + 0.02 * hh,
      hip,
      x + sw - 0.02 * hh,
      hip + 0.02 * hh,
    ],
    col,
  );
  c.ellipse(x, shoulder - 0.1 * hh, 0.065 * hh, 0.085 * hh, skin);
  if (hat) {
    c.ellipse(x, shoulder - 0.16 * hh, 0.12 * hh, 0.022 * hh, scale(col, 0.8));
    c.rect(x - 0.065 * hh, shoulder - 0.24 * hh, x + 0.065 * hh, shoulder - 0.16 * hh, scale(col, 0.8));
  }
}

function tree(
  c: Canvas,
  x: number,
  base: number,
  height: number,
  col: Rgb,
  conifer: boolean,
  rng: Random,
): void {
  const trunk = scale(col, 0.6);
  c.rect(x - 0.03 * height, base - 0.35 * height, x + 0.03 * height, base, trunk);
  if (conifer) {
    for (let i = 0; i < 3; i++) {
      const top = base - height * (1 - i * 0.2);
      const bot = base - height * (0.25 - i * 0.05) - i * 0.1 * height;
      const hw = 0.22 * height * (1 + i * 0.25);
      c.convex([x, top, x + hw, bot + 0.2 * height, x - hw, bot + 0.2 * height], col);
    }
  } else {
    const n = 3 + rng.int(3);
    for (let i = 0; i < n; i++) {
      c.ellipse(
        x + rng.range(-0.22, 0.22) * height,
        base - height * rng.range(0.55, 0.85),
        0.2 * height * rng.range(0.8, 1.3),
        0.17 * height * rng.range(0.8, 1.3),
        scale(col, rng.range(0.85, 1.1)),
      );
    }
  }
}

/** Heights of a ridge line per column: a sum of sines, some folded (|sin|) for peaks. */
function ridge(
  w: number,
  base: number,
  amp: number,
  rng: Random,
  pan: number,
  parallax: number,
): Float32Array {
  const out = new Float32Array(w);
  const waves: [number, number, number, boolean][] = [];
  for (let i = 0; i < 4; i++) {
    waves.push([
      (rng.range(1, 4) * (i + 1) * (2 * Math.PI)) / w,
      rng.range(0, 2 * Math.PI),
      amp / (i + 1),
      rng.chance(0.5),
    ]);
  }
  for (let x = 0; x < w; x++) {
    const xx = x - pan * parallax;
    let y = base;
    for (const [f, ph, a, fold] of waves)
      y -= fold ? a * (Math.abs(Math.sin(f * xx + ph)) - 0.5) : a * Math.sin(f * xx + ph);
    out[x] = y;
  }
  return out;
}

function celestial(s: Scene, hx: number, hy: number): void {
  const { c, rng, sky } = s;
  const r = c.h * rng.range(0.03, 0.06);
  if (s.time === 'night') {
    c.glow(hx, hy, r * 2, [0.6, 0.65, 0.8], 0.25);
    c.ellipse(hx, hy, r, r, [0.85, 0.88, 0.92]);
  } else if (s.time !== 'overcast') {
    const col = s.time === 'golden' ? ([1.0, 0.55, 0.25] as Rgb) : ([1.0, 0.95, 0.85] as Rgb);
    c.glow(hx, hy, r * 3, mix(col, sky.horizon, 0.3), 0.9);
    c.ellipse(hx, hy, r, r, [1.4, 1.3, 1.1]);
  }
}

function paintLandscape(s: Scene): void {
  const { c, rng, jr, sky } = s;
  const W = c.w;
  const H = c.h;
  const hy = H * rng.range(0.4, 0.68);
  c.gradient(0, hy + 1, sky.top, sky.horizon);
  if (rng.chance(0.75)) celestial(s, rng.range(0.1, 0.9) * W + s.pan * 0.2, hy - rng.range(0.08, 0.35) * H);
  const terrain = rng.pick(TERRAINS);
  const layers = rng.int(3);
  for (let i = 0; i < layers; i++) {
    const far = layers - i; // farther layers first, hazier
    const tops = ridge(W, hy, H * rng.range(0.05, 0.18) * (1 + 0.3 * far), rng, s.pan, 0.3 + 0.2 * i);
    const col = mix(mul(terrain, sky.light), sky.horizon, 0.25 + 0.2 * far);
    c.columns(tops, hy + 2, col, scale(col, 0.85), hy - H * 0.3, hy);
  }
  const gTop = mix(mul(terrain, sky.light), sky.horizon, 0.35);
  const gBottom = scale(mul(terrain, sky.light), 0.75);
  c.gradient(hy, H, gTop, gBottom);
  c.groundTexture(hy, H, hy - 2, 0.5, rng.range(20, 60), rng.range(0, 256) + s.pan * 0.3, rng.range(0, 256));
  if (rng.chance(0.6)) {
    const n = 2 + rng.int(8);
    const conifer = rng.chance(0.5);
    const dark = mix(scale(mul([0.15, 0.25, 0.1], sky.light), 0.8), sky.horizon, 0.2);
    for (let i = 0; i < n; i++) {
      const depth = rng.range(0, 1);
      const base = hy + depth * (H - hy) * 0.9 + 2;
      tree(
        c,
        rng.range(-0.05, 1.05) * W + s.pan * (0.5 + depth),
        base,
        H * (0.08 + 0.35 * depth),
        mix(dark, sky.horizon, 0.4 * (1 - depth)),
        conifer,
        rng,
      );
    }
  }
  const people = rng.chance(0.5) ? 1 + rng.int(3) : 0;
  const coat = clothing(rng);
  for (let i = 0; i < people; i++) {
    const depth = rng.range(0.3, 1);
    const x = (rng.range(0.15, 0.85) + jr.normal(0, 0.03)) * W + s.pan;
    figure(
      c,
      x,
      hy + depth * (H - hy),
      H * 0.45 * depth,
      mul(coat, sky.light),
      mul(rng.pick(SKIN), sky.light),
      jr.range(-1, 1),
      false,
      rng.chance(0.3),
    );
  }
  if (s.time !== 'night' && rng.chance(0.4)) c.haze(hy - H * 0.2, H, sky.horizon, 0.25, 0);
}

function paintCity(s: Scene): void {
  const { c, rng, jr, sky } = s;
  const W = c.w;
  const H = c.h;
  const hy = H * rng.range(0.55, 0.78);
  c.gradient(0, hy + 1, sky.top, sky.horizon);
  if (rng.chance(0.4)) celestial(s, rng.range(0.1, 0.9) * W, H * rng.range(0.08, 0.3));
  const lit = s.time === 'night' ? 0.55 : s.time === 'golden' ? 0.25 : s.time === 'overcast' ? 0.12 : 0.03;
  // Two rows of buildings: a hazy far skyline, then the street front.
  for (const row of [0, 1]) {
    let x = -rng.range(0, 0.1) * W + s.pan * (0.4 + 0.6 * row);
    while (x < W * 1.05) {
      const bw = W * rng.range(0.06, 0.2) * (row ? 1.4 : 1);
      const bh = H * rng.range(0.15, 0.55) * (row ? 1.2 : 0.9);
      const wall = rng.pick(WALLS);
      let col = scale(mul(wall, mix(sky.light, sky.ambient, 0.5)), row ? 0.7 : 0.9);
      if (!row) col = mix(col, sky.horizon, 0.45);
      const top = hy - bh;
      c.rect(x, top, x + bw - 1, hy + 1, col);
      const ww = Math.max(1, bw * 0.09);
      const wh = Math.max(1, bh * 0.05);
      const lamp = rng.pick(LAMPS.slice(0, 3));
      for (let wy = top + wh; wy < hy - 2 * wh; wy += wh * 2.2) {
        for (let wx = x + ww; wx < x + bw - 2 * ww; wx += ww * 2) {
          const on = rng.next() < lit;
          c.rect(
            wx,
            wy,
            wx + ww,
            wy + wh,
            on ? scale(lamp, 0.9) : mix(scale(col, 0.6), sky.top, 0.3),
            row ? 1 : 0.7,
          );
        }
      }
      x += bw + W * rng.range(0, 0.02);
    }
  }
  const street = mul([0.2, 0.2, 0.22], mix(sky.light, sky.ambient, 0.5));
  c.gradient(hy, H, scale(street, 1.2), scale(street, 0.8));
  c.groundTexture(hy, H, hy - 1, 0.35, 80, rng.range(0, 256) + s.pan, rng.range(0, 256));
  // Street lamps: poles, and pools of light at night.
  const lamps = rng.int(4);
  const lampCol = rng.pick(LAMPS);
  for (let i = 0; i < lamps; i++) {
    const x = rng.range(0.05, 0.95) * W + s.pan;
    const top = hy - H * rng.range(0.3, 0.5);
    c.rect(x - 1, top, x + 1.5, hy + H * 0.05, [0.05, 0.05, 0.06]);
    const on = s.time === 'night' || s.time === 'golden' || s.time === 'overcast';
    if (on) {
      c.glow(x, top, H * 0.03, lampCol, 1.2);
      c.glow(x, hy + H * 0.08, H * 0.12, lampCol, 0.35, 1.6, 0.5);
    }
  }
  if (s.time === 'night' && rng.chance(0.5)) {
    // Car lights going by.
    const y = hy + (H - hy) * rng.range(0.3, 0.7);
    const x = jr.range(0.1, 0.9) * W;
    c.glow(x, y, H * 0.015, [1, 0.95, 0.8], 1.5);
    c.glow(x + H * 0.1, y, H * 0.015, [1, 0.95, 0.8], 1.5);
  }
  const people = rng.int(5);
  const coatCol = clothing(rng);
  const hats = rng.chance(0.3);
  for (let i = 0; i < people; i++) {
    const depth = rng.range(0.2, 1);
    const x = (rng.range(0.05, 0.95) + jr.normal(0, 0.04)) * W + s.pan;
    const lightOn = scale(mul(coatCol, mix(sky.light, sky.ambient, 0.6)), 0.5);
    figure(
      c,
      x,
      hy + depth * (H - hy) * 0.9,
      H * 0.6 * depth,
      lightOn,
      scale(mul(rng.pick(SKIN), sky.light), 0.6),
      jr.range(-1, 1),
      hats,
      rng.chance(0.5),
    );
  }
  if (rng.chance(0.3)) c.haze(0, H, sky.horizon, 0.15, 0.3);
}

function paintInterior(s: Scene): void {
  const { c, rng, jr, sky } = s;
  const W = c.w;
  const H = c.h;
  const night = s.time === 'night';
  const lampCol = rng.pick(LAMPS.slice(0, 3));
  const roomLight: Rgb = night ? scale(lampCol, 0.35) : mix(sky.light, [0.9, 0.85, 0.75], 0.4);
  const wall = mul(rng.pick(WALLS), roomLight);
  const floorY = H * rng.range(0.62, 0.8);
  c.gradient(0, floorY, scale(wall, 0.75), wall);
  c.flatTexture(0, 0, W, floorY, 0.12, rng.range(2, 6), rng.range(0, 256), rng.range(0, 256));
  const floorCol = mul(
    rng.pick([
      [0.4, 0.26, 0.15],
      [0.3, 0.3, 0.32],
      [0.55, 0.45, 0.35],
      [0.2, 0.15, 0.12],
    ] as Rgb[]),
    roomLight,
  );
  c.gradient(floorY, H, scale(floorCol, 0.8), floorCol);
  c.groundTexture(floorY, H, floorY - H * 0.3, 0.3, 30, rng.range(0, 256), rng.range(0, 256), 0.3);
  // Window onto the sky, with light spilling into the room.
  if (rng.chance(0.75)) {
    const wx = rng.range(0.05, 0.7) * W + s.pan * 0.8;
    const ww = W * rng.range(0.12, 0.28);
    const wy = H * rng.range(0.1, 0.25);
    const wh = floorY - wy - H * rng.range(0.1, 0.2);
    c.rect(wx - 3, wy - 3, wx + ww + 3, wy + wh + 3, scale(wall, 0.5));
    for (let y = wy; y < wy + wh; y++) {
      const t = (y - wy) / wh;
      c.rect(wx, y, wx + ww, y + 1, scale(mix(sky.top, sky.horizon, t), night ? 1 : 1.25));
    }
    c.rect(wx + ww / 2 - 1, wy, wx + ww / 2 + 1, wy + wh, scale(wall, 0.4));
    c.rect(wx, wy + wh / 2 - 1, wx + ww, wy + wh / 2 + 1, scale(wall, 0.4));
    if (!night) c.glow(wx + ww / 2, floorY, ww * 0.6, sky.light, 0.35, 1.4, 0.5);
  }
  if (night || rng.chance(0.4)) {
    const lx = rng.range(0.1, 0.9) * W + s.pan * 0.8;
    const ly = floorY - H * rng.range(0.2, 0.45);
    c.rect(lx - 1, ly, lx + 1, floorY, [0.08, 0.07, 0.06]);
    c.convex(
      [
        lx - H * 0.06,
        ly - H * 0.02,
        lx + H * 0.06,
        ly - H * 0.02,
        lx + H * 0.035,
        ly - H * 0.1,
        lx - H * 0.035,
        ly - H * 0.1,
      ],
      scale(lampCol, 0.9),
    );
    c.glow(lx, ly - H * 0.05, H * 0.12, lampCol, night ? 0.7 : 0.35);
  }
  // Furniture and props: tables, frames on the wall, a door.
  const props = 1 + rng.int(4);
  for (let i = 0; i < props; i++) {
    const col = mul(hsv(rng.next(), rng.range(0.1, 0.6), rng.range(0.15, 0.6)), roomLight);
    const kind = rng.int(3);
    const x = rng.range(0, 0.9) * W + s.pan * 0.9;
    if (kind === 0) {
      const tw = W * rng.range(0.12, 0.3);
      const ty = floorY - H * rng.range(0.12, 0.22);
      c.rect(x, ty, x + tw, ty + H * 0.03, col);
      c.rect(x + 2, ty, x + 5, floorY + H * 0.05, scale(col, 0.7));
      c.rect(x + tw - 5, ty, x + tw - 2, floorY + H * 0.05, scale(col, 0.7));
    } else if (kind === 1) {
      const fw = W * rng.range(0.05, 0.12);
      const fy = H * rng.range(0.1, 0.35);
      c.rect(x, fy, x + fw, fy + fw * 0.75, scale(col, 0.6));
      c.rect(x + 3, fy + 3, x + fw - 3, fy + fw * 0.75 - 3, col);
    } else {
      const dw = W * 0.1;
      c.rect(x, floorY - H * 0.55, x + dw, floorY, scale(col, 0.7));
      c.ellipse(x + dw * 0.8, floorY - H * 0.27, 2, 2, [0.7, 0.6, 0.3]);
    }
  }
  const people = rng.int(3);
  const coatCol = clothing(rng);
  for (let i = 0; i < people; i++) {
    const x = (rng.range(0.15, 0.85) + jr.normal(0, 0.03)) * W + s.pan;
    figure(
      c,
      x,
      floorY + H * rng.range(0.05, 0.18),
      H * rng.range(0.55, 0.85),
      mul(coatCol, roomLight),
      mul(rng.pick(SKIN), roomLight),
      jr.range(-0.5, 0.5),
      false,
      rng.chance(0.4),
    );
  }
}

function paintPortrait(s: Scene): void {
  const { c, rng, jr, sky } = s;
  const W = c.w;
  const H = c.h;
  const night = s.time === 'night';
  const key: Rgb = night ? scale(rng.pick(LAMPS), 0.7) : mix(sky.light, [1, 0.9, 0.8], 0.3);
  // Background: a soft wall or out-of-focus lights.
  const bg = mul(rng.pick(WALLS), night ? scale(sky.ambient, 2) : scale(sky.ambient, 1.4));
  c.gradient(0, H, scale(bg, 1.1), scale(bg, 0.6));
  c.flatTexture(0, 0, W, H, 0.25, rng.range(6, 14), rng.range(0, 256), rng.range(0, 256));
  const bokeh = night ? 6 + rng.int(14) : rng.int(5);
  for (let i = 0; i < bokeh; i++) {
    const r = H * rng.range(0.03, 0.09);
    c.ellipse(
      rng.range(0, 1) * W + s.pan * 0.3,
      rng.range(0, 0.8) * H,
      r,
      r,
      rng.pick(LAMPS),
      rng.range(0.15, 0.4),
    );
  }
  const cx = W * rng.pick([0.33, 0.5, 0.66]) + jr.normal(0, 0.015) * W;
  const headR = H * rng.range(0.16, 0.24);
  const cy = H * rng.range(0.38, 0.5) + jr.normal(0, 0.01) * H;
  const dir = rng.chance(0.5) ? 1 : -1;
  const ambient = night ? 0.12 : rng.range(0.2, 0.45);
  const cloth = mul(clothing(rng), key);
  c.ellipse(cx, H * 1.05, headR * 2.6, H * 0.42, cloth, 1, { dir, ambient });
  const skin = mul(rng.pick(SKIN), key);
  c.rect(cx - headR * 0.35, cy + headR * 0.6, cx + headR * 0.35, cy + headR * 1.6, scale(skin, 0.6));
  c.ellipse(cx, cy, headR * 0.8, headR, skin, 1, { dir, ambient });
  const hair = mul(
    rng.pick([
      [0.08, 0.06, 0.05],
      [0.3, 0.2, 0.1],
      [0.6, 0.45, 0.25],
      [0.5, 0.5, 0.5],
    ] as Rgb[]),
    key,
  );
  c.ellipse(cx, cy - headR * 0.55, headR * 0.85, headR * 0.55, hair, 1, { dir, ambient: ambient * 0.8 });
  const eye = jr.range(-0.03, 0.03) * headR;
  c.ellipse(cx - headR * 0.3 + eye, cy - headR * 0.05, headR * 0.08, headR * 0.05, [0.05, 0.04, 0.04]);
  c.ellipse(cx + headR * 0.3 + eye, cy - headR * 0.05, headR * 0.08, headR * 0.05, [0.05, 0.04, 0.04]);
  if (rng.chance(0.5)) c.glow(cx + dir * headR * 1.2, cy - headR, headR * 1.5, key, 0.2);
}

function paintSeascape(s: Scene): void {
  const { c, rng, jr, sky } = s;
  const W = c.w;
  const H = c.h;
  const hy = H * rng.range(0.35, 0.6);
  c.gradient(0, hy + 1, sky.top, sky.horizon);
  const sunX = rng.range(0.15, 0.85) * W + s.pan * 0.2;
  const sunY = hy - rng.range(0.05, 0.3) * H;
  celestial(s, sunX, sunY);
  const water = mul([0.1, 0.25, 0.35], mix(sky.light, sky.ambient, 0.5));
  c.gradient(hy, H, mix(water, sky.horizon, 0.5), scale(water, 0.7));
  c.groundTexture(
    hy,
    H,
    hy - 1,
    0.6,
    12,
    rng.range(0, 256) + jr.range(0, 10),
    rng.range(0, 256) + jr.range(0, 10),
    4,
  );
  if (s.time !== 'overcast') {
    const glint =
      s.time === 'night'
        ? ([0.6, 0.65, 0.8] as Rgb)
        : s.time === 'golden'
          ? ([1.0, 0.6, 0.3] as Rgb)
          : ([1, 0.95, 0.85] as Rgb);
    c.glow(sunX, hy + (H - hy) * 0.35, H * 0.06, glint, s.time === 'night' ? 0.2 : 0.5, 0.6, 4);
  }
  if (rng.chance(0.6)) {
    // A boat or a headland on the horizon.
    const dark = mix(scale(sky.light, 0.08), sky.horizon, 0.3);
    if (rng.chance(0.5)) {
      const bx = rng.range(0.1, 0.8) * W + s.pan * 0.5 + jr.range(-0.02, 0.02) * W;
      const bs = H * rng.range(0.05, 0.15);
      c.convex(
        [
          bx - bs,
          hy - bs * 0.1,
          bx + bs,
          hy - bs * 0.1,
          bx + bs * 0.7,
          hy + bs * 0.2,
          bx - bs * 0.7,
          hy + bs * 0.2,
        ],
        dark,
      );
      c.convex([bx, hy - bs * 1.4, bx + bs * 0.6, hy - bs * 0.2, bx, hy - bs * 0.2], dark);
    } else {
      const tops = ridge(W, hy, H * 0.06, rng, s.pan, 0.3);
      const startX = rng.chance(0.5) ? 0 : 0.6 * W;
      for (let x = 0; x < W; x++) if (x < startX || x > startX + 0.4 * W) tops[x] = hy + 5;
      c.columns(tops, hy + 1, mix(dark, sky.horizon, 0.3), dark, hy - H * 0.1, hy);
    }
  }
  if (rng.chance(0.4)) {
    const x = (rng.range(0.2, 0.8) + jr.normal(0, 0.03)) * W + s.pan;
    figure(
      c,
      x,
      H * 0.98,
      H * 0.5,
      scale(sky.ambient, 0.4),
      scale(sky.ambient, 0.5),
      jr.range(-0.5, 0.5),
      false,
      rng.chance(0.5),
    );
  }
}

function paintNightLights(s: Scene): void {
  const { c, rng, jr, sky } = s;
  const W = c.w;
  const H = c.h;
  const base = s.time === 'night' ? sky.top : scale(sky.ambient, 0.3);
  c.gradient(0, H, scale(base, 1.5), scale(base, 0.6));
  c.flatTexture(0, 0, W, H, 0.3, rng.range(3, 8), rng.range(0, 256), rng.range(0, 256));
  const palette = [rng.pick(LAMPS), rng.pick(LAMPS), rng.pick(LAMPS)];
  const n = 15 + rng.int(30);
  for (let i = 0; i < n; i++) {
    const r = H * rng.range(0.015, 0.08);
    const x = rng.range(-0.05, 1.05) * W + s.pan * rng.range(0.2, 1);
    const y = rng.range(0, 1) * H;
    const col = rng.pick(palette);
    if (rng.chance(0.6)) c.ellipse(x, y, r, r, col, rng.range(0.15, 0.5));
    else c.glow(x, y, r * 0.5, col, rng.range(0.3, 1));
  }
  // Neon signs: bright tubes with their own glow.
  const signs = rng.int(4);
  for (let i = 0; i < signs; i++) {
    const col = rng.pick(palette);
    const x = rng.range(0.05, 0.8) * W + s.pan;
    const y = rng.range(0.1, 0.6) * H;
    const sw = W * rng.range(0.08, 0.25);
    const flicker = jr.chance(0.1) ? 0.3 : 1;
    c.rect(x, y, x + sw, y + Math.max(2, H * 0.012), scale(col, 1.3 * flicker));
    c.rect(x, y + H * 0.05, x + sw * 0.7, y + H * 0.05 + Math.max(2, H * 0.012), scale(col, 1.3 * flicker));
    c.glow(x + sw / 2, y + H * 0.03, sw * 0.3, col, 0.4 * flicker, 1.5, 0.6);
  }
  if (rng.chance(0.6)) {
    const x = (rng.range(0.2, 0.8) + jr.normal(0, 0.02)) * W;
    figure(
      c,
      x,
      H * 1.05,
      H * 0.9,
      [0.02, 0.02, 0.025],
      [0.03, 0.03, 0.03],
      jr.range(-0.3, 0.3),
      rng.chance(0.4),
      rng.chance(0.6),
    );
  }
  // Rain: thin bright streaks.
  if (rng.chance(0.3)) {
    const streaks = 40 + rng.int(80);
    for (let i = 0; i < streaks; i++) {
      const x = jr.range(0, W);
      const y = jr.range(0, H);
      c.rect(x, y, x + 0.7, y + H * 0.05, [0.6, 0.65, 0.7], 0.25);
    }
  }
}

function paintRoad(s: Scene): void {
  const { c, rng, jr, sky } = s;
  const W = c.w;
  const H = c.h;
  const hy = H * rng.range(0.4, 0.6);
  c.gradient(0, hy + 1, sky.top, sky.horizon);
  if (rng.chance(0.6)) celestial(s, rng.range(0.1, 0.9) * W, hy - rng.range(0.05, 0.25) * H);
  const terrain = rng.pick(TERRAINS);
  if (rng.chance(0.5)) {
    const tops = ridge(W, hy, H * rng.range(0.04, 0.12), rng, s.pan, 0.3);
    const col = mix(mul(terrain, sky.light), sky.horizon, 0.5);
    c.columns(tops, hy + 1, col, scale(col, 0.9), hy - H * 0.2, hy);
  }
  c.gradient(hy, H, mix(mul(terrain, sky.light), sky.horizon, 0.3), scale(mul(terrain, sky.light), 0.8));
  c.groundTexture(hy, H, hy - 2, 0.45, 40, rng.range(0, 256), rng.range(0, 256) + jr.range(0, 30));
  // The road to a vanishing point on the horizon.
  const vx = W * rng.range(0.3, 0.7) + s.pan * 0.3;
  const spread = W * rng.range(0.35, 0.8);
  const road = mul([0.16, 0.16, 0.18], mix(sky.light, sky.ambient, 0.4));
  c.convex([vx - 2, hy, vx + 2, hy, vx + spread, H, vx - spread, H], road);
  const dash = scale(mul([0.9, 0.85, 0.6], mix(sky.light, sky.ambient, 0.3)), 0.9);
  const phase = jr.range(0, 1);
  for (let i = 0; i < 12; i++) {
    // Dashes spaced evenly along the road in depth: y = hy + k / z.
    const z0 = 1 + (i + phase) * 0.7;
    const z1 = z0 + 0.35;
    const y0 = hy + (H - hy) / z1;
    const y1 = hy + (H - hy) / z0;
    const hw0 = ((y0 - hy) / (H - hy)) * spread * 0.02;
    const hw1 = ((y1 - hy) / (H - hy)) * spread * 0.02;
    c.convex([vx - hw0, y0, vx + hw0, y0, vx + hw1, y1, vx - hw1, y1], dash);
  }
  const poles = rng.int(6);
  for (let i = 0; i < poles; i++) {
    const t = 1 / (1 + i * 0.8 + jr.range(0, 0.2));
    const y = hy + (H - hy) * t;
    const x = vx + spread * 1.15 * t * (i % 2 ? 1 : -1);
    c.rect(x - 1 * t * 3, y - H * 0.6 * t, x + 1 * t * 3, y, scale(sky.ambient, 0.3));
  }
  if (s.time === 'night') {
    const t = jr.range(0.1, 0.4);
    const y = hy + (H - hy) * t;
    c.glow(vx - spread * 0.3 * t, y, H * 0.02, [1, 0.95, 0.85], 1.2);
    c.glow(vx + spread * 0.1 * t, y, H * 0.02, [1, 0.95, 0.85], 1.2);
  }
  if (s.time !== 'night' && rng.chance(0.5)) c.haze(hy - H * 0.15, hy + H * 0.1, sky.horizon, 0.0, 0.3);
}

const PAINTERS: Record<SampleComposition, (s: Scene) => void> = {
  landscape: paintLandscape,
  city: paintCity,
  interior: paintInterior,
  portrait: paintPortrait,
  seascape: paintSeascape,
  nightlights: paintNightLights,
  road: paintRoad,
};

/** Scene ends (exclusive) of a movie, drawn lazily from its scene stream and kept per movie. */
const sceneEnds = new WeakMap<SampleMovie, { rng: Random; ends: number[] }>();

/** Which scene still `index` belongs to: scenes of 1–6 stills, in film order (prefix-stable). */
function sceneOf(movie: SampleMovie, index: number): number {
  let cached = sceneEnds.get(movie);
  if (!cached) {
    cached = { rng: new Random(hashSeed(movie.seed, 'movie', movie.index, 'scenes')), ends: [] };
    sceneEnds.set(movie, cached);
  }
  const { rng, ends } = cached;
  while (ends.length === 0 || ends[ends.length - 1] <= index) {
    // Mostly short scenes (mean about 2.4 stills), now and then a long one.
    const length = 1 + Math.min(5, Math.floor(-Math.log(1 - rng.next()) * 1.8));
    ends.push((ends.length === 0 ? 0 : ends[ends.length - 1]) + length);
  }
  // Binary search for the first scene that ends after `index`.
  let lo = 0;
  let hi = ends.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid] > index) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// Grading

const LUT_SIZE = 4096;
// 4096 entries (16 kB) stay in the L1 cache; the pixel-to-entry choice is random, so no pattern shows.
const GAUSS_SIZE = 4096;
const GAUSS_MASK = GAUSS_SIZE - 1;
/** Standard normal deviates, looked up per pixel for grain (a Box–Muller per pixel would cost more than the grade). */
let gaussTable: Float32Array | undefined;
function gauss(): Float32Array {
  if (gaussTable) return gaussTable;
  const rng = new Random('filmatlas sample grain');
  gaussTable = new Float32Array(GAUSS_SIZE);
  for (let i = 0; i < gaussTable.length; i++) gaussTable[i] = rng.normal();
  return gaussTable;
}

/** The parts of a grade that depend only on the look (and size): tone curves as tables, the vignette map. */
interface PreparedLook {
  look: Look;
  lut: Float32Array;
  vignette: Float32Array;
}

function prepareLook(look: Look, w: number, h: number): PreparedLook {
  const lut = new Float32Array(3 * LUT_SIZE);
  const k = look.contrast;
  const sig = (v: number): number => 1 / (1 + Math.exp(-k * (v - 0.5)));
  const lo = sig(0);
  const hi = sig(1);
  for (let ch = 0; ch < 3; ch++) {
    for (let i = 0; i < LUT_SIZE; i++) {
      const v = clampTo((i / (LUT_SIZE - 1)) * look.balance[ch], 0, 1);
      const curved = k < 1e-3 ? v : (sig(v) - lo) / (hi - lo);
      lut[ch * LUT_SIZE + i] = look.lift + (look.gain - look.lift) * Math.pow(curved, 1 / look.gamma);
    }
  }
  const vignette = new Float32Array(w * h);
  const vx = 2 / w;
  const vy = 2 / h;
  for (let y = 0; y < h; y++) {
    const dy = (y + 0.5) * vy - 1;
    for (let x = 0; x < w; x++) {
      const dx = (x + 0.5) * vx - 1;
      const r2 = (dx * dx + dy * dy) / 2; // 0 at the centre, 1 in the corners
      vignette[y * w + x] = 1 - look.vignette * r2 * r2 * (3 - 2 * r2);
    }
  }
  return { look, lut, vignette };
}

/** Grades the float scene into 8-bit RGB with the movie's look (after `sceneExposure`), adding grain from `grainSeed`. */
function grade(src: Float32Array, g: PreparedLook, grainSeed: number, sceneExposure: number): Uint8Array {
  const { look, lut, vignette } = g;
  const n = vignette.length;
  const out = new Uint8Array(n * 3);
  const G = gauss();
  const exposure = look.exposure * sceneExposure;
  const sat = look.mono ? 0 : look.saturation;
  const [sr, sg, sb] = look.shadows;
  const [hr, hg, hb] = look.highlights;
  const grain = look.grain;
  const chromaGrain = look.mono ? 0 : grain * 0.35;
  const top = LUT_SIZE - 1;
  let s = grainSeed | 1;
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    let r = src[p] * exposure;
    let gg = src[p + 1] * exposure;
    let b = src[p + 2] * exposure;
    // Highlight roll-off: lights above 0.8 approach 1 instead of clipping hard.
    if (r > 0.8) r = 0.8 + (0.2 * (r - 0.8)) / (r - 0.6);
    if (gg > 0.8) gg = 0.8 + (0.2 * (gg - 0.8)) / (gg - 0.6);
    if (b > 0.8) b = 0.8 + (0.2 * (b - 0.8)) / (b - 0.6);
    const y = 0.2126 * r + 0.7152 * gg + 0.0722 * b;
    const ws = (1 - y) * (1 - y);
    const wh = y * y;
    r = y + (r - y) * sat + ws * sr + wh * hr;
    gg = y + (gg - y) * sat + ws * sg + wh * hg;
    b = y + (b - y) * sat + ws * sb + wh * hb;
    const ir = r <= 0 ? 0 : r >= 1 ? top : (r * top + 0.5) | 0;
    const ig = gg <= 0 ? 0 : gg >= 1 ? top : (gg * top + 0.5) | 0;
    const ib = b <= 0 ? 0 : b >= 1 ? top : (b * top + 0.5) | 0;
    const v = vignette[i];
    r = lut[ir] * v;
    gg = lut[LUT_SIZE + ig] * v;
    b = lut[2 * LUT_SIZE + ib] * v;
    // Grain: strongest in the midtones, as on film.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const yl = (r + gg + b) / 3;
    const amp = grain * (0.4 + 2.4 * yl * (1 - yl));
    const ng = G[s & GAUSS_MASK] * amp;
    const nc = G[(s >>> 20) & GAUSS_MASK] * chromaGrain;
    r += ng + nc;
    gg += ng - 0.5 * nc;
    b += ng - 0.5 * nc;
    out[p] = r <= 0 ? 0 : r >= 1 ? 255 : (r * 255 + 0.5) | 0;
    out[p + 1] = gg <= 0 ? 0 : gg >= 1 ? 255 : (gg * 255 + 0.5) | 0;
    out[p + 2] = b <= 0 ? 0 : b >= 1 ? 255 : (b * 255 + 0.5) | 0;
  }
  return out;
}

const preparedCache = new WeakMap<SampleMovie, PreparedLook>();

/**
 * A scene: its time of day and one or two camera setups (a wide shot and, half the
 * time, a reverse angle or close-up), the same for every still in it.
 */
function sceneSetting(
  movie: SampleMovie,
  scene: number,
): { time: TimeOfDay; setups: { composition: SampleComposition; layoutSeed: number }[] } {
  const rng = new Random(hashSeed(movie.seed, 'movie', movie.index, 'scene', scene));
  const family = LOOK_FAMILIES.find((f) => f.name === movie.family);
  const time = rng.weighted(TIMES, family ? family.times : [1, 1, 1, 1]);
  const setups = [
    { composition: rng.weighted(SAMPLE_COMPOSITIONS, movie.compositions), layoutSeed: rng.uint32() },
  ];
  if (rng.chance(0.5)) {
    const composition = rng.chance(0.5) ? 'portrait' : rng.weighted(SAMPLE_COMPOSITIONS, movie.compositions);
    setups.push({ composition, layoutSeed: rng.uint32() });
  }
  return { time, setups };
}

/**
 * Paints still `index` (0-based) of a sample movie: its scene, lit and graded with
 * the movie's look. 8-bit RGB at the movie's size. Pure: the same movie and index
 * give the same pixels.
 */
export function renderSampleStill(movie: SampleMovie, index: number): RawImage {
  const { width: w, height: h } = movie;
  const { time, setups } = sceneSetting(movie, sceneOf(movie, index));
  const jr = new Random(hashSeed(movie.seed, 'movie', movie.index, 'still', index));
  const setup = setups[setups.length > 1 && jr.chance(0.45) ? 1 : 0];
  // Every setup of a scene shares the sky (drawn first from the scene's layout stream).
  const layout = new Random(setups[0].layoutSeed);
  const sky = skyFor(time, layout);
  const rng = setup === setups[0] ? layout : new Random(setup.layoutSeed);
  const c = new Canvas(w, h);
  PAINTERS[setup.composition]({ c, rng, jr, time, sky, pan: jr.normal(0, 0.07) * w });
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

// ---------------------------------------------------------------------------------------------
// Writing

async function encodeStill(img: RawImage, movie: SampleMovie, format: 'jpeg' | 'png'): Promise<Buffer> {
  let data = img.data;
  let channels: 1 | 3 = 3;
  if (movie.format.greyscale) {
    // A black-and-white movie saved as single-channel files: untoned mono grades have r = g = b.
    const grey = new Uint8Array(img.width * img.height);
    for (let i = 0, p = 1; i < grey.length; i++, p += 3) grey[i] = data[p];
    data = grey;
    channels = 1;
  }
  let s = sharp(data, { raw: { width: img.width, height: img.height, channels } });
  // Without this sharp would write single-channel input back out as sRGB.
  if (channels === 1) s = s.toColourspace('b-w');
  return format === 'png'
    ? s.png({ compressionLevel: 6 }).toBuffer()
    : s.jpeg({ quality: movie.format.jpegQuality, progressive: movie.format.progressive }).toBuffer();
}

/** Writes `data` to `path` through a temporary name, so a file at its final name is always whole. */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.partial`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * Written before the first still and removed once movies.csv is written: lets a run
 * that was interrupted (Ctrl-C, kill) be replaced by the next one into the same folder.
 */
const PENDING_MARKER = '.filmatlas-sample-pending.json';

const isPlainName = (name: string): boolean =>
  name !== '' && name !== '.' && name !== '..' && !/[/\\]/.test(name);

/**
 * Makes `dir` ready: created if missing; if it holds a previous sample (a movies.csv with
 * the sample header), that sample's movie folders and manifest are removed; any other
 * non-empty folder is refused, so a person's own files are never overwritten.
 */
async function prepareDir(dir: string): Promise<void> {
  let entries: string[];
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) {
      throw new AtlasError('INVALID_ARGUMENT', `${dir} exists and is not a folder`, {
        value: dir,
        suggestion: 'give a new or empty folder for the sample',
      });
    }
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      await mkdir(dir, { recursive: true });
      return;
    }
    throw e;
  }
  if (entries.length === 0) return;
  const refuse = (why: string): AtlasError =>
    new AtlasError('INVALID_ARGUMENT', `${dir} is not empty and ${why}; refusing to write a sample into it`, {
      value: dir,
      suggestion:
        'give a new or empty folder, or the folder of an earlier `filmatlas sample` run to replace it',
    });
  const folders: string[] = [];
  if (entries.includes(PENDING_MARKER)) {
    // An interrupted run: its marker lists the folders it was writing.
    try {
      const pending = JSON.parse(await readFile(join(dir, PENDING_MARKER), 'utf8')) as { folders?: unknown };
      if (Array.isArray(pending.folders)) folders.push(...pending.folders.map(String));
    } catch {
      throw refuse(`its ${PENDING_MARKER} cannot be read`);
    }
  } else {
    if (!entries.includes('movies.csv')) throw refuse('holds no sample collection (no movies.csv)');
    let rows: string[][];
    try {
      rows = parseCsv(await readFile(join(dir, 'movies.csv'), 'utf8'));
    } catch {
      throw refuse('its movies.csv cannot be read as CSV');
    }
    const header = rows[0] ?? [];
    if (header.join(',') !== SAMPLE_MANIFEST_HEADER.join(',')) {
      throw refuse('its movies.csv was not written by `filmatlas sample`');
    }
    const folderAt = SAMPLE_MANIFEST_HEADER.indexOf('folder');
    for (const row of rows.slice(1)) if (row[folderAt]) folders.push(row[folderAt]);
  }
  // The manifest goes first: a collection without one is never mistaken for a whole sample.
  await rm(join(dir, 'movies.csv'), { force: true });
  for (const folder of folders) {
    if (isPlainName(folder)) await rm(join(dir, folder), { recursive: true, force: true });
  }
  await rm(join(dir, PENDING_MARKER), { force: true });
}

/**
 * Writes a synthetic collection to `dir`: one folder `Title (Year)` per movie with
 * its stills (JPEG and PNG), and `movies.csv` (written last) with each movie's
 * metadata and look family. With `withBadFiles`, a folder of hostile files too.
 */
export async function generateSample(dir: string, options: SampleOptions = {}): Promise<SampleResult> {
  const o = resolveOptions(options);
  const concurrency = checkInt(
    'concurrency',
    options.concurrency ?? Math.max(2, availableParallelism() + 1),
    1,
    64,
  );
  const { onProgress, signal } = options;
  const root = resolve(dir);
  throwIfAborted(signal);
  await prepareDir(root);
  const movies = planMovies(o);
  const folders = movies.map((m) => m.folder);
  if (options.withBadFiles) folders.push(HOSTILE_FOLDER);
  await writeAtomic(join(root, PENDING_MARKER), JSON.stringify({ folders }) + '\n');
  const total = movies.length * o.stills;
  let done = 0;
  onProgress?.({ stage: 'sample', done, total });

  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const settle = async (): Promise<void> => {
    await Promise.allSettled([...inFlight]);
  };
  try {
    for (const movie of movies) {
      const folder = join(root, movie.folder);
      await mkdir(folder, { recursive: true });
      for (let j = 0; j < o.stills; j++) {
        throwIfAborted(signal);
        if (failure) throw failure;
        const { name, format } = sampleStillFile(movie, j, o.stills);
        const img = renderSampleStill(movie, j);
        const job = encodeStill(img, movie, format)
          .then((buf) => writeAtomic(join(folder, name), buf))
          .then(
            () => {
              done++;
              onProgress?.({ stage: 'sample', done, total });
            },
            (e: unknown) => {
              failure ??= new AtlasError(
                'IO',
                `could not write ${join(folder, name)}: ${(e as Error).message}`,
                {
                  value: join(folder, name),
                  cause: e,
                },
              );
            },
          )
          .finally(() => inFlight.delete(job));
        inFlight.add(job);
        // Paint the next still while up to `concurrency` encode and write in sharp's threads.
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
    }
    await settle();
    if (failure) throw failure;
  } catch (e) {
    await settle();
    throw e;
  }

  let badFiles = 0;
  const rows: string[][] = [[...SAMPLE_MANIFEST_HEADER]];
  for (const m of movies) {
    rows.push([
      m.title,
      String(m.year),
      m.director,
      m.cinematographer,
      m.productionDesign,
      m.costumeDesign,
      m.family,
      m.aspect,
      m.folder,
    ]);
  }
  if (options.withBadFiles) {
    throwIfAborted(signal);
    const cases = await writeHostileFiles(join(root, HOSTILE_FOLDER));
    badFiles = cases.length;
    rows.push(['Hostile Cases', '2001', '', '', '', '', 'hostile', '', HOSTILE_FOLDER]);
    onProgress?.({ stage: 'sample', done, total, note: `${badFiles} hostile files` });
  }
  const manifest = join(root, 'movies.csv');
  await writeAtomic(manifest, toCsv(rows));
  await rm(join(root, PENDING_MARKER), { force: true });
  const families: string[] = [];
  for (const m of movies) if (!families.includes(m.family)) families.push(m.family);
  return { dir: root, movies: movies.length, stills: total, families, badFiles, manifest };
}
