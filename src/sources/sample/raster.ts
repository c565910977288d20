/**
 * The rasteriser the scenes are painted with: a float RGB canvas (0–1, lights may
 * exceed 1) with antialiased rectangles, ellipses, convex polygons, gradients, glows,
 * haze and noise textures, and the few colour helpers the painters use.
 */
import { Random } from '../../numeric/random.js';
import { clampTo, type LookRgb } from './looks.js';

/** A colour (0–1, lights may exceed 1). */
export type Rgb = LookRgb;

/** `a` blended toward `b` by `t`. */
export const mix = (a: Rgb, b: Rgb, t: number): Rgb => [
  a[0] + (b[0] - a[0]) * t,
  a[1] + (b[1] - a[1]) * t,
  a[2] + (b[2] - a[2]) * t,
];
/** Channel by channel product (a surface colour under a light). */
export const mul = (a: Rgb, b: Rgb): Rgb => [a[0] * b[0], a[1] * b[1], a[2] * b[2]];
/** Every channel times `s`. */
export const scale = (a: Rgb, s: number): Rgb => [a[0] * s, a[1] * s, a[2] * s];

/** HSV (h in turns, s and v 0–1) to RGB. */
export function hsv(h: number, s: number, v: number): Rgb {
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
        tile[y * N + x] += amp * bilinear(grid, r0, r1, c0, c1, tx, ty);
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

/** A noise texture: its strength, its scale, and where in the noise tile it starts. */
export interface Texture {
  /** Brightness varies by a factor 1 ± amount · noise (noise about ±0.5). */
  amount: number;
  /** Size of the pattern (per texture kind: see `flatTexture`, `groundTexture`). */
  scale: number;
  offX: number;
  offY: number;
}

/** A float RGB canvas with the few drawing operations the scenes need (antialiased where it shows). */
export class Canvas {
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
    const [a, b] = pixelRange(y0, y1, h);
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
    const { w, h } = this;
    const yb = Math.min(h, Math.ceil(bottom));
    const span = Math.max(1e-6, gy1 - gy0);
    for (let x = 0; x < w; x++) {
      const top = tops[x];
      for (let y = Math.max(0, Math.floor(top)); y < yb; y++) {
        const a = alpha * Math.min(1, y + 1 - top);
        if (a <= 0) continue;
        const t = clampTo((y + 0.5 - gy0) / span, 0, 1);
        this.blend(
          (y * w + x) * 3,
          cTop[0] + (cBottom[0] - cTop[0]) * t,
          cTop[1] + (cBottom[1] - cTop[1]) * t,
          cTop[2] + (cBottom[2] - cTop[2]) * t,
          a,
        );
      }
    }
  }

  /** Axis-aligned rectangle [x0, x1) × [y0, y1) with fractional edge coverage. */
  rect(x0: number, y0: number, x1: number, y1: number, c: Rgb, alpha = 1): void {
    const [ya, yb] = pixelRange(y0, y1, this.h);
    for (let y = ya; y < yb; y++) this.span(y, x0, x1, Math.min(y + 1, y1) - Math.max(y, y0), c, alpha);
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
    const { w, h } = this;
    if (rx <= 0 || ry <= 0) return;
    const [xa, xb] = pixelRange(cx - rx - 1, cx + rx + 1, w);
    const [ya, yb] = pixelRange(cy - ry - 1, cy + ry + 1, h);
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
        this.blend((y * w + x) * 3, c[0] * s, c[1] * s, c[2] * s, a);
      }
    }
  }

  /** Convex polygon (points x0, y0, x1, y1, ...), filled row by row with fractional coverage at the row ends. */
  convex(pts: readonly number[], c: Rgb, alpha = 1): void {
    const { h } = this;
    const n = pts.length >> 1;
    let ymin = Infinity;
    let ymax = -Infinity;
    for (let i = 0; i < n; i++) {
      ymin = Math.min(ymin, pts[2 * i + 1]);
      ymax = Math.max(ymax, pts[2 * i + 1]);
    }
    const [ya, yb] = pixelRange(ymin, ymax, h);
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
      this.span(y, xl, xr, Math.min(1, Math.min(y + 1, ymax) - Math.max(y, ymin)), c, alpha);
    }
  }

  /** A trapezoid with horizontal edges: from x0l to x0r at y0, from x1l to x1r at y1. */
  trapezoid(
    y0: number,
    x0l: number,
    x0r: number,
    y1: number,
    x1l: number,
    x1r: number,
    c: Rgb,
    alpha = 1,
  ): void {
    this.convex([x0l, y0, x0r, y0, x1r, y1, x1l, y1], c, alpha);
  }

  /** Additive light: a glow of `intensity` falling off as 1/(1 + d²/r²)², stretched by sx, sy. */
  glow(cx: number, cy: number, r: number, c: Rgb, intensity: number, sx = 1, sy = 1): void {
    const { w, h, px } = this;
    if (r <= 0 || intensity <= 0) return;
    const rx = r * sx;
    const ry = r * sy;
    const [xa, xb] = pixelRange(cx - 4 * rx, cx + 4 * rx, w);
    const [ya, yb] = pixelRange(cy - 4 * ry, cy + 4 * ry, h);
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
   * seen in perspective from a horizon at `horizon` (rows near it get compressed) and
   * stretched in depth by `stretch`; `tex.scale` is the plane's scale across.
   */
  groundTexture(y0: number, y1: number, horizon: number, tex: Texture, stretch = 1): void {
    const { w, h } = this;
    const { amount, scale: scaleX, offX, offY } = tex;
    const t = noise();
    const N = NOISE_SIZE;
    const [ya, yb] = pixelRange(y0, y1, h);
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
        this.multiply((y * w + x) * 3, 1 + fade * bilinear(t, r0, r1, c0, c1, uf, vf));
      }
    }
  }

  /**
   * Multiplies a rectangle by 1 + amount · noise (flat texture: walls, plaster, skies);
   * `tex.scale` is the size of a noise cell in pixels.
   */
  flatTexture(x0: number, y0: number, x1: number, y1: number, tex: Texture): void {
    const { w, h } = this;
    const { amount, scale: cell, offX, offY } = tex;
    const t = noise();
    const N = NOISE_SIZE;
    const [xa, xb] = pixelRange(x0, x1, w);
    const [ya, yb] = pixelRange(y0, y1, h);
    const inv = 1 / Math.max(0.05, cell);
    for (let y = ya; y < yb; y++) {
      const row = Math.floor(offY + y * inv) & MASK;
      for (let x = xa; x < xb; x++) {
        const col = Math.floor(offX + x * inv) & MASK;
        this.multiply((y * w + x) * 3, 1 + amount * t[row * N + col]);
      }
    }
  }

  /** Blends rows [y0, y1) toward `c` (fog, haze), alpha ramping from a0 at y0 to a1 at y1. */
  haze(y0: number, y1: number, c: Rgb, a0: number, a1: number): void {
    const { w, h } = this;
    const [ya, yb] = pixelRange(y0, y1, h);
    const span = Math.max(1e-6, y1 - y0);
    for (let y = ya; y < yb; y++) {
      const a = a0 + (a1 - a0) * clampTo((y + 0.5 - y0) / span, 0, 1);
      for (let p = y * w * 3, e = p + w * 3; p < e; p += 3) this.blend(p, c[0], c[1], c[2], a);
    }
  }

  /**
   * Blends row y from x0 to x1 toward `c`: each pixel by `alpha` × its horizontal coverage
   * (fractional at both ends) × `cy`, the row's vertical coverage.
   */
  private span(y: number, x0: number, x1: number, cy: number, c: Rgb, alpha: number): void {
    const [xa, xb] = pixelRange(x0, x1, this.w);
    for (let x = xa; x < xb; x++) {
      const cx = Math.min(x + 1, x1) - Math.max(x, x0);
      this.blend((y * this.w + x) * 3, c[0], c[1], c[2], alpha * cx * cy);
    }
  }

  /** Moves the pixel at offset `p` toward (r, g, b) by `a` (1: replaced). */
  private blend(p: number, r: number, g: number, b: number, a: number): void {
    const px = this.px;
    px[p] += (r - px[p]) * a;
    px[p + 1] += (g - px[p + 1]) * a;
    px[p + 2] += (b - px[p + 2]) * a;
  }

  /** Multiplies the pixel at offset `p` by `m`. */
  private multiply(p: number, m: number): void {
    const px = this.px;
    px[p] *= m;
    px[p + 1] *= m;
    px[p + 2] *= m;
  }
}

/** The pixels [first, end) that the span [lo, hi) touches, clipped to [0, n). */
function pixelRange(lo: number, hi: number, n: number): [number, number] {
  return [Math.max(0, Math.floor(lo)), Math.min(n, Math.ceil(hi))];
}

/**
 * Bilinear interpolation in a square table: rows r0 and r1 (offsets of their starts),
 * columns c0 and c1, fractions fx across and fy down.
 */
function bilinear(
  t: Float32Array,
  r0: number,
  r1: number,
  c0: number,
  c1: number,
  fx: number,
  fy: number,
): number {
  const top = t[r0 + c0] + (t[r0 + c1] - t[r0 + c0]) * fx;
  const bot = t[r1 + c0] + (t[r1 + c1] - t[r1 + c0]) * fx;
  return top + (bot - top) * fy;
}
