/**
 * Look families: the colour grades sample movies are made with, and each movie's own
 * jittered version of its family's grade. The grade itself is applied in grade.ts.
 */
import type { Random } from '../../numeric/random.js';

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
/** The times of day, in the order of `LookFamily.times`. */
export const TIMES: readonly TimeOfDay[] = ['day', 'golden', 'night', 'overcast'];

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

/** `v` limited to [lo, hi]. */
export const clampTo = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

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
