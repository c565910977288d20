/** Category colours for the map and a small palette extractor for stills (k-means in RGB). */

const PALETTE: [number, number, number][] = [
  [230, 97, 1],
  [94, 160, 230],
  [120, 200, 80],
  [220, 60, 120],
  [250, 200, 40],
  [150, 100, 220],
  [60, 200, 190],
  [240, 130, 160],
  [170, 170, 60],
  [200, 120, 60],
  [100, 130, 255],
  [190, 230, 140],
];

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function hsl(h: number, s: number, l: number): [number, number, number] {
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    const a = s * Math.min(l, 1 - l);
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/**
 * Colours for categories: the most frequent twelve get the fixed palette, the rest
 * a hue from their name's hash; null (unknown) is grey.
 */
export function categoryColors(ranked: string[]): Map<string, [number, number, number]> {
  const out = new Map<string, [number, number, number]>();
  ranked.forEach((c, i) => out.set(c, i < PALETTE.length ? PALETTE[i] : hsl(hashString(c) % 360, 0.55, 0.6)));
  return out;
}

export const UNKNOWN: [number, number, number] = [128, 128, 128];

export function rgbHex([r, g, b]: readonly number[]): string {
  return '#' + [r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
}

/** A still's dominant colours by k-means over its pixels (black letterbox bars skipped), most common first. */
export function paletteOf(
  img: HTMLImageElement,
  k = 5,
): { color: [number, number, number]; share: number }[] {
  const w = 56,
    h = 32;
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  if (!ctx) return [];
  ctx.drawImage(img, 0, 0, w, h);
  const px = ctx.getImageData(0, 0, w, h).data;
  const pts: number[][] = [];
  for (let i = 0; i < px.length; i += 4) {
    if (px[i] + px[i + 1] + px[i + 2] < 12) continue;
    pts.push([px[i], px[i + 1], px[i + 2]]);
  }
  if (pts.length === 0) return [{ color: [0, 0, 0], share: 1 }];
  const centres = Array.from({ length: Math.min(k, pts.length) }, (_, i) => [
    ...pts[Math.floor((i * pts.length) / k)],
  ]);
  const assign = new Int32Array(pts.length);
  for (let iter = 0; iter < 12; iter++) {
    pts.forEach((p, i) => {
      let best = 0,
        bd = Infinity;
      centres.forEach((cc, j) => {
        const d = (p[0] - cc[0]) ** 2 + (p[1] - cc[1]) ** 2 + (p[2] - cc[2]) ** 2;
        if (d < bd) {
          bd = d;
          best = j;
        }
      });
      assign[i] = best;
    });
    const sums = centres.map(() => [0, 0, 0, 0]);
    pts.forEach((p, i) => {
      const s = sums[assign[i]];
      s[0] += p[0];
      s[1] += p[1];
      s[2] += p[2];
      s[3]++;
    });
    sums.forEach((s, j) => {
      if (s[3]) centres[j] = [s[0] / s[3], s[1] / s[3], s[2] / s[3]];
    });
  }
  const counts = centres.map((_, j) => assign.filter((a) => a === j).length);
  return centres
    .map((cc, j) => ({
      color: [cc[0], cc[1], cc[2]] as [number, number, number],
      share: counts[j] / pts.length,
    }))
    .filter((x) => x.share > 0)
    .sort((a, b) => b.share - a.share);
}

/** The mean colour of an image (for barcodes), letterbox bars skipped. */
export function meanColor(img: HTMLImageElement): [number, number, number] {
  const c = document.createElement('canvas');
  c.width = 28;
  c.height = 16;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  if (!ctx) return [0, 0, 0];
  ctx.drawImage(img, 0, 0, 28, 16);
  const px = ctx.getImageData(0, 0, 28, 16).data;
  let r = 0,
    g = 0,
    b = 0,
    n = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i] + px[i + 1] + px[i + 2] < 12) continue;
    r += px[i];
    g += px[i + 1];
    b += px[i + 2];
    n++;
  }
  return n ? [r / n, g / n, b / n] : [0, 0, 0];
}
