/**
 * Colour helpers for palettes: the three spaces palettes are clustered in (CIELAB,
 * HSL, RGB) as 3-D coordinates, back to sRGB, hex parsing, and ΔE distances.
 * Builds on the per-pixel conversions in colour.ts.
 */
import { checkPaletteSpace, type PaletteColour, type PaletteSpace } from '../atlas/palettes.js';
import { invalidArgument } from '../errors.js';
import { labToSrgb, srgbToHsl, srgbToLab, toHex } from './colour.js';

// Palette spaces and colours are part of the stored palette format (src/atlas/palettes.ts).
export type { PaletteColour, PaletteSpace };

export const PALETTE_SPACES: Record<PaletteSpace, { description: string }> = {
  lab: { description: 'CIELAB (D65): Euclidean distance ≈ perceived difference (default)' },
  hsl: {
    description:
      'HSL as a cylinder: (100·s·cos h, 100·s·sin h, 100·l), so hue wraps round and counts less as saturation falls',
  },
  rgb: { description: 'sRGB bytes (0–255), the naive choice, for comparison' },
};

/** Checks a palette space name against PALETTE_SPACES ("must be one of [lab, hsl, rgb]") and returns it. */
export const paletteSpace: (name: string) => PaletteSpace = checkPaletteSpace;

const DEG = Math.PI / 180;
const hslTmp = [0, 0, 0];

/** An sRGB pixel as a point in `space` (written into out[o..o+2]). */
export function toSpace(
  space: PaletteSpace,
  r: number,
  g: number,
  b: number,
  out: Float32Array | number[],
  o = 0,
): void {
  if (space === 'lab') srgbToLab(r, g, b, out, o);
  else if (space === 'rgb') {
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = b;
  } else {
    srgbToHsl(r, g, b, hslTmp);
    const s = hslTmp[1] * 100;
    out[o] = s * Math.cos(hslTmp[0] * DEG);
    out[o + 1] = s * Math.sin(hslTmp[0] * DEG);
    out[o + 2] = hslTmp[2] * 100;
  }
}

/** HSL (h in degrees, s and l in [0, 1]) to sRGB bytes. */
export function hslToSrgb(h: number, s: number, l: number): [number, number, number] {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  let r = 0,
    g = 0,
    b = 0;
  if (hp < 1) [r, g, b] = [c, x, 0];
  else if (hp < 2) [r, g, b] = [x, c, 0];
  else if (hp < 3) [r, g, b] = [0, c, x];
  else if (hp < 4) [r, g, b] = [0, x, c];
  else if (hp < 5) [r, g, b] = [x, 0, c];
  else [r, g, b] = [c, 0, x];
  const m = l - c / 2;
  const byte = (v: number): number => Math.max(0, Math.min(255, Math.round((v + m) * 255)));
  return [byte(r), byte(g), byte(b)];
}

/** A point of `space` back to sRGB bytes (clamped into the gamut). */
export function fromSpace(space: PaletteSpace, x: number, y: number, z: number): [number, number, number] {
  if (space === 'lab') return labToSrgb(x, y, z);
  if (space === 'rgb') {
    const byte = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
    return [byte(x), byte(y), byte(z)];
  }
  const s = Math.min(1, Math.hypot(x, y) / 100);
  const h = (Math.atan2(y, x) / DEG + 360) % 360;
  return hslToSrgb(h, s, Math.max(0, Math.min(1, z / 100)));
}

const r2 = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

/** Describes a CIELAB colour with its share. */
export function describeLab(L: number, a: number, b: number, share: number): PaletteColour {
  const rgb = labToSrgb(L, a, b);
  const hsl = [0, 0, 0];
  srgbToHsl(rgb[0], rgb[1], rgb[2], hsl);
  return {
    hex: toHex(rgb[0], rgb[1], rgb[2]),
    share: r2(share, 4),
    rgb,
    lab: [r2(L), r2(a), r2(b)],
    hsl: [r2(hsl[0], 1), r2(hsl[1], 3), r2(hsl[2], 3)],
  };
}

/** "#1f3a4d" or "1f3a4d" or "#abc" → sRGB bytes; anything else fails naming the value. */
export function parseHex(text: string, name = 'colour'): [number, number, number] {
  const t = text.trim().replace(/^#/, '');
  let full: string | undefined;
  if (/^[0-9a-f]{6}$/i.test(t)) full = t;
  else if (/^[0-9a-f]{3}$/i.test(t)) full = t.replace(/./g, (c) => c + c);
  if (!full) throw invalidArgument(name, 'a hex colour like #1f3a4d', text);
  return [parseInt(full.slice(0, 2), 16), parseInt(full.slice(2, 4), 16), parseInt(full.slice(4, 6), 16)];
}

/** sRGB bytes → CIELAB triple. */
export function rgbToLab(r: number, g: number, b: number): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  srgbToLab(r, g, b, out);
  return out;
}

/** CIE76 colour difference (Euclidean in CIELAB): ~2.3 is a just-noticeable difference. */
export function deltaE(l1: number, a1: number, b1: number, l2: number, a2: number, b2: number): number {
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}
