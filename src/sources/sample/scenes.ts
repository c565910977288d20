/**
 * The scenes sample stills are painted as: seven compositions (landscape, city,
 * interior, portrait, seascape, night lights, road) under a sky for the time of day,
 * and how a movie's stills are cut into scenes of one or two camera setups each.
 * Painting is in float RGB on a `Canvas`; grading into 8-bit colour is grade.ts's.
 */
import { hashSeed, Random } from '../../numeric/random.js';
import { LOOK_FAMILIES, TIMES, type TimeOfDay } from './looks.js';
import { SAMPLE_COMPOSITIONS, type SampleComposition, type SampleMovie } from './plan.js';
import { Canvas, hsv, mix, mul, scale, type Rgb, type Texture } from './raster.js';

interface Sky {
  top: Rgb;
  horizon: Rgb;
  /** Colour and strength of the light falling on things. */
  light: Rgb;
  /** Light on the shadow side and from the sky. */
  ambient: Rgb;
}

/** A colour that varies from scene to scene: its mean and relative standard deviation per channel. */
type Varying = readonly [mean: Rgb, sd: number];

/** The sky at each time of day; the ambient light does not vary. */
const SKIES: Record<TimeOfDay, { top: Varying; horizon: Varying; light: Varying; ambient: Rgb }> = {
  day: {
    top: [[0.22, 0.42, 0.78], 0.08],
    horizon: [[0.7, 0.8, 0.9], 0.05],
    light: [[1.0, 0.96, 0.9], 0.03],
    ambient: [0.35, 0.4, 0.5],
  },
  golden: {
    top: [[0.3, 0.32, 0.58], 0.1],
    horizon: [[1.0, 0.62, 0.32], 0.07],
    light: [[1.0, 0.7, 0.42], 0.05],
    ambient: [0.3, 0.25, 0.3],
  },
  night: {
    top: [[0.02, 0.03, 0.07], 0.2],
    horizon: [[0.1, 0.11, 0.2], 0.15],
    light: [[0.2, 0.22, 0.32], 0.1],
    ambient: [0.07, 0.08, 0.12],
  },
  overcast: {
    top: [[0.52, 0.55, 0.58], 0.05],
    horizon: [[0.75, 0.76, 0.76], 0.04],
    light: [[0.64, 0.65, 0.67], 0.04],
    ambient: [0.4, 0.42, 0.45],
  },
};

/** A scene's sky: its time of day's, each varying colour drawn from `rng` (top, horizon, light). */
function skyFor(time: TimeOfDay, rng: Random): Sky {
  const vary = ([c, sd]: Varying): Rgb => [
    Math.max(0, c[0] * (1 + rng.normal(0, sd))),
    Math.max(0, c[1] * (1 + rng.normal(0, sd))),
    Math.max(0, c[2] * (1 + rng.normal(0, sd))),
  ];
  const base = SKIES[time];
  return { top: vary(base.top), horizon: vary(base.horizon), light: vary(base.light), ambient: base.ambient };
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
  // Legs from the hips (`hipOut` to `hipIn` either side of x) to the feet, apart by the stride.
  const hipOut = 0.07 * hh;
  const hipIn = 0.01 * hh;
  const footIn = 0.02 * hh;
  const stepIn = stride * 0.08 * hh;
  const stepOut = stride * 0.12 * hh;
  c.trapezoid(hip, x - hipOut, x - hipIn, foot, x - hipOut - stepOut, x - footIn - stepIn, legs);
  c.trapezoid(hip, x + hipIn, x + hipOut, foot, x + footIn + stepIn, x + hipOut + stepOut, legs);
  const bottom = coat ? foot - 0.2 * hh : hip + 0.03 * hh;
  const hem = (coat ? 0.12 : 0.085) * hh;
  c.trapezoid(shoulder, x - sw, x + sw, bottom, x - hem, x + hem, col);
  // Arms: from the shoulders (`arm` wide) down to slanted cuffs at the hips.
  const left = x - sw;
  const right = x + sw;
  const arm = 0.045 * hh;
  const d = 0.02 * hh;
  const cuff = hip + d;
  c.convex([left, shoulder, left + arm, shoulder, left + d, cuff, left - d, hip], col);
  c.convex([right - arm, shoulder, right, shoulder, right + d, hip, right - d, cuff], col);
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

/** A noise texture of `amount` and `scale` at a random place in the noise tile (offsets drawn from `rng`). */
function noiseAt(rng: Random, amount: number, scale: number): Texture {
  return { amount, scale, offX: rng.range(0, 256), offY: rng.range(0, 256) };
}

/** Draws where the horizon lies (a share lo–hi of the frame down) and paints the sky above it; returns its row. */
function skyToHorizon(s: Scene, lo: number, hi: number): number {
  const hy = s.c.h * s.rng.range(lo, hi);
  s.c.gradient(0, hy + 1, s.sky.top, s.sky.horizon);
  return hy;
}

function paintLandscape(s: Scene): void {
  const { c, rng, jr, sky } = s;
  const W = c.w;
  const H = c.h;
  const hy = skyToHorizon(s, 0.4, 0.68);
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
  c.groundTexture(hy, H, hy - 2, {
    amount: 0.5,
    scale: rng.range(20, 60),
    offX: rng.range(0, 256) + s.pan * 0.3,
    offY: rng.range(0, 256),
  });
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
  const hy = skyToHorizon(s, 0.55, 0.78);
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
  c.groundTexture(hy, H, hy - 1, {
    amount: 0.35,
    scale: 80,
    offX: rng.range(0, 256) + s.pan,
    offY: rng.range(0, 256),
  });
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
  c.flatTexture(0, 0, W, floorY, noiseAt(rng, 0.12, rng.range(2, 6)));
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
  c.groundTexture(floorY, H, floorY - H * 0.3, noiseAt(rng, 0.3, 30), 0.3);
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
    const shade = scale(lampCol, 0.9);
    const rim = ly - H * 0.02;
    c.trapezoid(rim, lx - H * 0.06, lx + H * 0.06, ly - H * 0.1, lx - H * 0.035, lx + H * 0.035, shade);
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
  c.flatTexture(0, 0, W, H, noiseAt(rng, 0.25, rng.range(6, 14)));
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
  const hy = skyToHorizon(s, 0.35, 0.6);
  const sunX = rng.range(0.15, 0.85) * W + s.pan * 0.2;
  const sunY = hy - rng.range(0.05, 0.3) * H;
  celestial(s, sunX, sunY);
  const water = mul([0.1, 0.25, 0.35], mix(sky.light, sky.ambient, 0.5));
  c.gradient(hy, H, mix(water, sky.horizon, 0.5), scale(water, 0.7));
  // The water moves from still to still.
  const waves = {
    amount: 0.6,
    scale: 12,
    offX: rng.range(0, 256) + jr.range(0, 10),
    offY: rng.range(0, 256) + jr.range(0, 10),
  };
  c.groundTexture(hy, H, hy - 1, waves, 4);
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
      c.trapezoid(hy - bs * 0.1, bx - bs, bx + bs, hy + bs * 0.2, bx - bs * 0.7, bx + bs * 0.7, dark);
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
  c.flatTexture(0, 0, W, H, noiseAt(rng, 0.3, rng.range(3, 8)));
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
  const hy = skyToHorizon(s, 0.4, 0.6);
  if (rng.chance(0.6)) celestial(s, rng.range(0.1, 0.9) * W, hy - rng.range(0.05, 0.25) * H);
  const terrain = rng.pick(TERRAINS);
  if (rng.chance(0.5)) {
    const tops = ridge(W, hy, H * rng.range(0.04, 0.12), rng, s.pan, 0.3);
    const col = mix(mul(terrain, sky.light), sky.horizon, 0.5);
    c.columns(tops, hy + 1, col, scale(col, 0.9), hy - H * 0.2, hy);
  }
  c.gradient(hy, H, mix(mul(terrain, sky.light), sky.horizon, 0.3), scale(mul(terrain, sky.light), 0.8));
  c.groundTexture(hy, H, hy - 2, {
    amount: 0.45,
    scale: 40,
    offX: rng.range(0, 256),
    offY: rng.range(0, 256) + jr.range(0, 30),
  });
  // The road to a vanishing point on the horizon.
  const vx = W * rng.range(0.3, 0.7) + s.pan * 0.3;
  const spread = W * rng.range(0.35, 0.8);
  const road = mul([0.16, 0.16, 0.18], mix(sky.light, sky.ambient, 0.4));
  c.trapezoid(hy, vx - 2, vx + 2, H, vx - spread, vx + spread, road);
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
    c.trapezoid(y0, vx - hw0, vx + hw0, y1, vx - hw1, vx + hw1, dash);
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
 * Paints still `index` (0-based) of a sample movie in float RGB: its scene's setup,
 * lit by the scene's sky, the camera panned a little. Also returns the still's own
 * random stream, which grading goes on drawing from.
 */
export function paintStill(movie: SampleMovie, index: number): { c: Canvas; jr: Random } {
  const { time, setups } = sceneSetting(movie, sceneOf(movie, index));
  const jr = new Random(hashSeed(movie.seed, 'movie', movie.index, 'still', index));
  const setup = setups[setups.length > 1 && jr.chance(0.45) ? 1 : 0];
  // Every setup of a scene shares the sky (drawn first from the scene's layout stream).
  const layout = new Random(setups[0].layoutSeed);
  const sky = skyFor(time, layout);
  const rng = setup === setups[0] ? layout : new Random(setup.layoutSeed);
  const c = new Canvas(movie.width, movie.height);
  PAINTERS[setup.composition]({ c, rng, jr, time, sky, pan: jr.normal(0, 0.07) * movie.width });
  return { c, jr };
}
