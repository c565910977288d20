/**
 * The points map: every still of a layout as a WebGL point (regl), drawn in one
 * call whatever the count; pan by dragging, zoom with the wheel around the
 * cursor. When few enough points are in view the page lays the stills' thumbnails
 * over them (see ThumbnailLayer in map.tsx). Without WebGL it falls back to a 2-D
 * canvas (slower, same picture).
 */
import createREGL from 'regl';

export interface View {
  /** Data coordinates at the centre of the canvas. */
  cx: number;
  cy: number;
  /** CSS pixels per data unit. */
  k: number;
}

export interface PointsScene {
  xy: Float32Array;
  /** RGBA per point, 0–255; alpha < 255 draws the point dimmed (not in the selection). */
  colors: Uint8Array;
  /** Data y grows downwards on screen (grids) or upwards (plots). */
  yDown: boolean;
  /** A path through points in order (a movie's stills in film order), as point indices; drawn by the page's overlay. */
  path: number[] | null;
  /** Point indices to ring (the focused still). */
  marked: number[];
  /** The scale (px per unit) at which the whole layout fits: points grow as the view zooms past it. */
  fitK: number;
}

/** `moving`: the view is changing (drag, wheel); many points may then be drawn as a sample. */
type DrawFn = (
  scene: PointsScene,
  view: View,
  width: number,
  height: number,
  dpr: number,
  moving?: boolean,
) => void;

/** Most points drawn per frame while the view moves; the full set is drawn once it rests. */
export const MOVING_MAX = 20_000;

export interface PointsRenderer {
  readonly kind: 'webgl' | 'canvas2d';
  draw: DrawFn;
  /** Call after scene.xy or scene.colors changed. */
  invalidate(): void;
  destroy(): void;
}

const VERT = `
precision highp float;
attribute vec2 pos;
attribute vec4 color;
uniform vec2 center;
uniform vec2 scale;
uniform float size;
varying vec4 vColor;
varying float vRound;
void main() {
  gl_Position = vec4((pos - center) * scale, 0.0, 1.0);
  gl_PointSize = color.a > 0.99 ? size : max(1.0, size * 0.7);
  vRound = size > 3.5 ? 1.0 : 0.0;
  vColor = color;
}`;

const FRAG = `
precision mediump float;
varying vec4 vColor;
varying float vRound;
void main() {
  // Tiny points are drawn square: no per-fragment test.
  if (vRound > 0.5) {
    vec2 d = gl_PointCoord - 0.5;
    if (dot(d, d) > 0.25) discard;
  }
  float a = vColor.a > 0.99 ? 1.0 : 0.18;
  gl_FragColor = vec4(vColor.rgb * a, a);
}`;

/**
 * Point diameter in CSS px: small enough at the fitted view that 100k+ points stay
 * readable (and cheap to fill without a GPU), growing with the square root of the zoom.
 */
export function pointSize(view: View, n: number, fitK: number): number {
  const base = n > 50000 ? 2 : n > 5000 ? 3 : 6;
  return Math.min(24, base * Math.sqrt(Math.max(1, view.k / Math.max(fitK, 1e-12))));
}

/** Bins per axis of the spatial index used to skip points out of view. */
const BINS = 64;

interface Bins {
  xy: Float32Array;
  /** Points reordered by bin (row-major: by * BINS + bx). */
  sortedXy: Float32Array;
  /** order[j] = original index of sorted point j. */
  order: Uint32Array;
  /** First sorted index of each bin; start[BINS²] = n. */
  start: Uint32Array;
  minX: number;
  minY: number;
  cellW: number;
  cellH: number;
}

/** A counting sort of the points into a BINS × BINS grid over their bounds. */
function binPoints(xy: Float32Array): Bins {
  const n = xy.length / 2;
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, xy[2 * i]);
    maxX = Math.max(maxX, xy[2 * i]);
    minY = Math.min(minY, xy[2 * i + 1]);
    maxY = Math.max(maxY, xy[2 * i + 1]);
  }
  if (n === 0) [minX, minY, maxX, maxY] = [0, 0, 1, 1];
  const cellW = Math.max((maxX - minX) / BINS, 1e-12) * (1 + 1e-6),
    cellH = Math.max((maxY - minY) / BINS, 1e-12) * (1 + 1e-6);
  const binOf = new Uint32Array(n);
  const start = new Uint32Array(BINS * BINS + 1);
  for (let i = 0; i < n; i++) {
    const bx = Math.min(BINS - 1, Math.floor((xy[2 * i] - minX) / cellW));
    const by = Math.min(BINS - 1, Math.floor((xy[2 * i + 1] - minY) / cellH));
    binOf[i] = by * BINS + bx;
    start[binOf[i] + 1]++;
  }
  for (let c = 0; c < BINS * BINS; c++) start[c + 1] += start[c];
  const next = start.slice(0, BINS * BINS);
  const order = new Uint32Array(n);
  const sortedXy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const j = next[binOf[i]]++;
    order[j] = i;
    sortedXy[2 * j] = xy[2 * i];
    sortedXy[2 * j + 1] = xy[2 * i + 1];
  }
  return { xy, sortedXy, order, start, minX, minY, cellW, cellH };
}

function permuteColors(colors: Uint8Array, order: Uint32Array): Uint8Array {
  const out = new Uint8Array(order.length * 4);
  for (let j = 0; j < order.length; j++) out.set(colors.subarray(4 * order[j], 4 * order[j] + 4), 4 * j);
  return out;
}

function webgl(canvas: HTMLCanvasElement): PointsRenderer | null {
  let regl: createREGL.Regl;
  try {
    regl = createREGL({ canvas, attributes: { antialias: false, preserveDrawingBuffer: false } });
  } catch (err) {
    console.warn('WebGL unavailable, drawing points on a 2-D canvas:', err);
    return null;
  }
  const pos = regl.buffer({ usage: 'static', type: 'float', data: new Float32Array(0) });
  const col = regl.buffer({ usage: 'static', type: 'uint8', data: new Uint8Array(0) });
  let uploaded: { xy: Float32Array; colors: Uint8Array } | null = null;
  let bins: Bins | null = null;
  const samplePos = regl.buffer({ usage: 'static', type: 'float', data: new Float32Array(0) });
  const sampleCol = regl.buffer({ usage: 'static', type: 'uint8', data: new Uint8Array(0) });
  let sample: Uint32Array = new Uint32Array(0);
  const blend = {
    enable: true,
    func: { srcRGB: 'one', srcAlpha: 'one', dstRGB: 'one minus src alpha', dstAlpha: 'one minus src alpha' },
  } as const;
  const points = regl({
    vert: VERT,
    frag: FRAG,
    attributes: { pos: { buffer: pos, size: 2 }, color: { buffer: col, size: 4, normalized: true } },
    uniforms: {
      center: regl.prop<{ center: [number, number] }, 'center'>('center'),
      scale: regl.prop<{ scale: [number, number] }, 'scale'>('scale'),
      size: regl.prop<{ size: number }, 'size'>('size'),
    },
    count: regl.prop<{ count: number }, 'count'>('count'),
    offset: regl.prop<{ offset: number }, 'offset'>('offset'),
    primitive: 'points',
    depth: { enable: false },
    blend,
  });
  const sampled = regl({
    vert: VERT,
    frag: FRAG,
    attributes: {
      pos: { buffer: samplePos, size: 2 },
      color: { buffer: sampleCol, size: 4, normalized: true },
    },
    uniforms: {
      center: regl.prop<{ center: [number, number] }, 'center'>('center'),
      scale: regl.prop<{ scale: [number, number] }, 'scale'>('scale'),
      size: regl.prop<{ size: number }, 'size'>('size'),
    },
    count: regl.prop<{ count: number }, 'count'>('count'),
    primitive: 'points',
    depth: { enable: false },
    blend,
  });
  return {
    kind: 'webgl',
    invalidate: () => {
      uploaded = null;
    },
    draw(scene, view, width, height, dpr, moving = false) {
      if (!bins || bins.xy !== scene.xy) {
        bins = binPoints(scene.xy);
        pos({ data: bins.sortedXy });
        // An even sample (every s-th point) for frames drawn while the view moves.
        const n = scene.xy.length / 2;
        const step = Math.max(1, Math.ceil(n / MOVING_MAX));
        sample = Uint32Array.from({ length: Math.ceil(n / step) }, (_, j) => j * step);
        samplePos({
          data: Float32Array.from(
            { length: sample.length * 2 },
            (_, j) => scene.xy[2 * sample[j >> 1] + (j & 1)],
          ),
        });
        uploaded = null;
      }
      if (!uploaded || uploaded.colors !== scene.colors) {
        col({ data: permuteColors(scene.colors, bins.order) });
        sampleCol({ data: permuteColors(scene.colors, sample) });
        uploaded = { xy: scene.xy, colors: scene.colors };
      }
      regl.poll();
      regl.clear({ color: [0.07, 0.07, 0.08, 1], depth: 1 });
      const center: [number, number] = [view.cx, view.cy];
      const scale: [number, number] = [(2 * view.k) / width, ((scene.yDown ? -2 : 2) * view.k) / height];
      const n = scene.xy.length / 2;
      const size = pointSize(view, n, scene.fitK);
      // Draw only the bins in view (one call per bin row): zoomed in, most vertices are skipped.
      const pad = size / view.k;
      const hx = width / 2 / view.k + pad,
        hy = height / 2 / view.k + pad;
      const b = bins;
      const bx0 = Math.max(0, Math.floor((view.cx - hx - b.minX) / b.cellW)),
        bx1 = Math.min(BINS - 1, Math.floor((view.cx + hx - b.minX) / b.cellW));
      const by0 = Math.max(0, Math.floor((view.cy - hy - b.minY) / b.cellH)),
        by1 = Math.min(BINS - 1, Math.floor((view.cy + hy - b.minY) / b.cellH));
      if (bx1 < bx0 || by1 < by0) return;
      const ranges: [number, number][] = [];
      let total = 0;
      if ((bx1 - bx0 + 1) * (by1 - by0 + 1) > 0.6 * BINS * BINS) {
        ranges.push([0, n]);
        total = n;
      } else {
        for (let by = by0; by <= by1; by++) {
          const start = b.start[by * BINS + bx0],
            end = b.start[by * BINS + bx1 + 1];
          if (end > start) ranges.push([start, end - start]);
          total += end - start;
        }
      }
      if (moving && total > MOVING_MAX && sample.length < n) {
        sampled({ center, scale, size: size * dpr, count: sample.length });
        return;
      }
      for (const [offset, count] of ranges) points({ center, scale, size: size * dpr, count, offset });
    },
    destroy: () => regl.destroy(),
  };
}

function canvas2d(canvas: HTMLCanvasElement): PointsRenderer {
  const ctx = canvas.getContext('2d')!;
  return {
    kind: 'canvas2d',
    invalidate: () => undefined,
    draw(scene, view, width, height, dpr) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.fillStyle = '#121214';
      ctx.fillRect(0, 0, width, height);
      const s = pointSize(view, scene.xy.length / 2, scene.fitK);
      const sy = scene.yDown ? 1 : -1;
      for (let i = 0; i < scene.xy.length / 2; i++) {
        const x = (scene.xy[2 * i] - view.cx) * view.k + width / 2;
        const y = sy * (scene.xy[2 * i + 1] - view.cy) * view.k + height / 2;
        if (x < -s || y < -s || x > width + s || y > height + s) continue;
        const c = scene.colors;
        ctx.fillStyle = `rgba(${c[4 * i]},${c[4 * i + 1]},${c[4 * i + 2]},${c[4 * i + 3] === 255 ? 1 : 0.18})`;
        ctx.fillRect(x - s / 2, y - s / 2, s, s);
      }
    },
    destroy: () => undefined,
  };
}

/** A WebGL renderer, else a 2-D one on a fresh canvas put in the old one's place (a canvas keeps its first context type). */
export function createPointsRenderer(canvas: HTMLCanvasElement): {
  renderer: PointsRenderer;
  canvas: HTMLCanvasElement;
} {
  const gl = webgl(canvas);
  if (gl) return { renderer: gl, canvas };
  const fresh = document.createElement('canvas');
  canvas.replaceWith(fresh);
  return { renderer: canvas2d(fresh), canvas: fresh };
}

/** Screen position (CSS px) of point i. */
export function toScreen(
  scene: PointsScene,
  view: View,
  i: number,
  width: number,
  height: number,
): [number, number] {
  const sy = scene.yDown ? 1 : -1;
  return [
    (scene.xy[2 * i] - view.cx) * view.k + width / 2,
    sy * (scene.xy[2 * i + 1] - view.cy) * view.k + height / 2,
  ];
}

/** The point nearest a screen position within `radius` px, or -1. A linear scan: ~1 ms at 132k points. */
export function pick(
  scene: PointsScene,
  view: View,
  x: number,
  y: number,
  width: number,
  height: number,
  radius: number,
): number {
  const sy = scene.yDown ? 1 : -1;
  const dx0 = (x - width / 2) / view.k + view.cx;
  const dy0 = (sy * (y - height / 2)) / view.k + view.cy;
  const r = radius / view.k;
  let best = -1,
    bestD = r * r;
  const xy = scene.xy;
  for (let i = 0; i < xy.length; i += 2) {
    const dx = xy[i] - dx0,
      dy = xy[i + 1] - dy0;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i >> 1;
    }
  }
  return best;
}

/** Indices of points inside the view, stopping once more than `max` are found (then null). */
export function visiblePoints(
  scene: PointsScene,
  view: View,
  width: number,
  height: number,
  max: number,
): number[] | null {
  const sy = scene.yDown ? 1 : -1;
  const x0 = view.cx - width / 2 / view.k,
    x1 = view.cx + width / 2 / view.k;
  const yA = view.cy - (sy * height) / 2 / view.k,
    yB = view.cy + (sy * height) / 2 / view.k;
  const y0 = Math.min(yA, yB),
    y1 = Math.max(yA, yB);
  const out: number[] = [];
  const xy = scene.xy;
  for (let i = 0; i < xy.length; i += 2) {
    if (xy[i] >= x0 && xy[i] <= x1 && xy[i + 1] >= y0 && xy[i + 1] <= y1) {
      out.push(i >> 1);
      if (out.length > max) return null;
    }
  }
  return out;
}

/** A view that fits all points, using `fill` (0–1) of the smaller side. */
export function fitView(xy: Float32Array, width: number, height: number, fill = 0.9): View {
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (let i = 0; i < xy.length; i += 2) {
    minX = Math.min(minX, xy[i]);
    maxX = Math.max(maxX, xy[i]);
    minY = Math.min(minY, xy[i + 1]);
    maxY = Math.max(maxY, xy[i + 1]);
  }
  if (!Number.isFinite(minX)) return { cx: 0, cy: 0, k: 1 };
  const w = Math.max(maxX - minX, 1e-9),
    h = Math.max(maxY - minY, 1e-9);
  return { cx: (minX + maxX) / 2, cy: (minY + maxY) / 2, k: fill * Math.min(width / w, height / h) };
}
