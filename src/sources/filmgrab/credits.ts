/**
 * Credits as film-grab.com writes them — `Label: value` lines under each gallery —
 * normalised to the atlas's movie fields. The site's labels vary by post and carry
 * typos (the original analysis had to hand-clean `dir`, `directed by`, `dop`,
 * `directir of photography`, `dorector of photography`, `costume designer`, ...), and a
 * naive `split(':')` also catches CSS and script text as "attributes". Here:
 *
 * 1. a label is normalised (lower case, accents and punctuation dropped, spaces collapsed);
 * 2. looked up in `CREDIT_LABELS` (exact variants), else matched to a long variant
 *    within a small edit distance (typos);
 * 3. unknown labels that look like a credit (`Editor`, `Music`) are kept as free
 *    attributes; lines that look like code or prose are rejected and reported.
 */
import type { MovieSpec } from '../../catalog/catalog.js';

/** The canonical movie fields a credit line can fill. */
export type CreditField =
  'title' | 'director' | 'cinematographer' | 'productionDesign' | 'costumeDesign' | 'year';

/**
 * Known label variants per field, written as people write them (normalised when the
 * table is built). Add a variant here when the site grows a new one.
 */
export const CREDIT_LABELS: Record<CreditField, readonly string[]> = {
  title: ['Title', 'Film', 'Movie', 'Film title', 'Movie title'],
  director: [
    'Director',
    'Directors',
    'Director(s)',
    'Directed by',
    'Directed',
    'Dir',
    'Dir.',
    'Direction',
    'Film director',
  ],
  cinematographer: [
    'Director of Photography',
    'Directors of Photography',
    'Director(s) of Photography',
    'DoP',
    'D.O.P.',
    'DP',
    'D.P.',
    'Cinematographer',
    'Cinematographers',
    'Cinematography',
    'Cinematography by',
    'Photography',
    'Director of Photography (DoP)',
    'Dir. of Photography',
    'Photographed by',
    'Directir of Photography',
    'Dorector of Photography',
  ],
  productionDesign: [
    'Production Design',
    'Production Designer',
    'Production Designers',
    'Production Design by',
    'Prod. Design',
    'Prod Design',
  ],
  costumeDesign: [
    'Costume Design',
    'Costume Designer',
    'Costume Designers',
    'Costume Design by',
    'Costumes',
    'Costumes by',
    'Costume',
  ],
  year: ['Year', 'Release Year', 'Year of Release', 'Released', 'Release Date'],
};

/** "Director(s) of  Photography:" → "directors of photography". */
export function normaliseLabel(label: string): string {
  return label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[.()'’]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const EXACT = new Map<string, CreditField>();
for (const [field, variants] of Object.entries(CREDIT_LABELS) as [CreditField, readonly string[]][]) {
  for (const v of variants) EXACT.set(normaliseLabel(v), field);
}
/** Variants long enough that a near miss is a typo of them rather than another word. */
const FUZZY = [...EXACT.entries()].filter(([k]) => k.length >= 6);

/** Optimal-string-alignment distance (Levenshtein plus adjacent swaps), stopping early past `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const w = b.length + 1;
  let prev2 = new Int32Array(w);
  let prev = new Int32Array(w);
  let cur = new Int32Array(w);
  for (let j = 0; j < w; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j < w; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length];
}

/**
 * The canonical field a credit label names, or undefined for a label we do not know.
 * Typos are accepted up to 1 edit for labels of 6–11 letters and 2 edits from 12.
 */
export function canonicalCreditField(label: string): CreditField | undefined {
  const key = normaliseLabel(label);
  if (key.length === 0) return undefined;
  const exact = EXACT.get(key);
  if (exact) return exact;
  if (key.length < 6) return undefined;
  const allowed = key.length >= 12 ? 2 : 1;
  let best: CreditField | undefined;
  let bestD = allowed + 1;
  for (const [variant, field] of FUZZY) {
    const d = editDistance(key, variant, allowed);
    if (d < bestD) {
      bestD = d;
      best = field;
    }
  }
  return best;
}

/** CSS properties (and the like) that a `Label: value` split catches from style text. */
const CODE_LABELS = new Set(
  [
    'color',
    'background',
    'background color',
    'background image',
    'font',
    'font family',
    'font size',
    'font weight',
    'font style',
    'margin',
    'margin top',
    'margin bottom',
    'margin left',
    'margin right',
    'padding',
    'padding top',
    'padding bottom',
    'padding left',
    'padding right',
    'display',
    'width',
    'height',
    'max width',
    'max height',
    'min width',
    'min height',
    'border',
    'border radius',
    'border color',
    'border width',
    'border style',
    'position',
    'top',
    'left',
    'right',
    'bottom',
    'float',
    'clear',
    'opacity',
    'overflow',
    'z index',
    'text align',
    'line height',
    'vertical align',
    'box shadow',
    'transition',
    'transform',
    'cursor',
    'content',
    'visibility',
    'filter',
    'outline',
    'box sizing',
    'text decoration',
    'letter spacing',
    'white space',
    'flex',
    'grid',
    'src',
    'http',
    'https',
    'mailto',
    'javascript',
    'var',
    'let',
    'const',
    'function',
    'return',
    'if',
    'else',
  ].map(normaliseLabel),
);

/**
 * Why a `label: value` pair is not a credit, or undefined when it may be one. Credit
 * labels are a few words of letters; code and prose are not.
 */
export function junkReason(label: string, value: string): string | undefined {
  const l = label.trim();
  const v = value.trim();
  if (!/^\p{L}[\p{L}\p{N} .&'’()/,+-]{0,48}$/u.test(l)) return 'label is not a word';
  if (l.split(/\s+/).length > 4) return 'label is a sentence';
  if (CODE_LABELS.has(normaliseLabel(l))) return 'looks like CSS or code';
  if (/[{}]|;\s*$|!important|=>|\bfunction\s*\(|^\/\//.test(v)) return 'looks like CSS or code';
  if (/^(#[0-9a-f]{3,8}\b|-?\d+(\.\d+)?(px|em|rem|%|vh|vw|pt)\b|(rgba?|hsla?|url|calc)\()/i.test(v)) {
    return 'looks like CSS or code';
  }
  if (v.length === 0) return 'empty value';
  if (v.length > 300) return 'value too long for a credit';
  return undefined;
}

/** What the credit lines of one movie page say. */
export interface Credits {
  title?: string;
  year?: number;
  director?: string;
  cinematographer?: string;
  productionDesign?: string;
  costumeDesign?: string;
  /** Credits with labels we do not know (`editor`, `music`, ...), keyed by normalised label with `_`. */
  attributes: Record<string, string>;
  /** Lines that had a `label:` but were rejected, with why ("font-family: Arial → looks like CSS or code"). */
  rejected: string[];
}

const YEAR = /\b(18[7-9]\d|19\d\d|20\d\d|2100)\b/;

function addValue(current: string | undefined, value: string): string {
  if (current === undefined || current === value) return value;
  return current.split(', ').includes(value) ? current : `${current}, ${value}`;
}

/**
 * Reads credit lines (`Director: Ridley Scott`) into canonical fields. Lines without
 * a colon are ignored; a field given twice keeps both values, comma-separated.
 * A label alone on its line takes the next line as its value.
 */
export function normaliseCredits(lines: Iterable<string>): Credits {
  const out: Credits = { attributes: {}, rejected: [] };
  const list = [...lines].map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l.length > 0);
  for (let i = 0; i < list.length; i++) {
    const line = list[i];
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const label = line.slice(0, colon);
    let value = line.slice(colon + 1).trim();
    if (value === '' && i + 1 < list.length && !list[i + 1].includes(':')) value = list[++i];
    const junk = junkReason(label, value);
    if (junk) {
      out.rejected.push(`${line.length > 80 ? line.slice(0, 77) + '…' : line} → ${junk}`);
      continue;
    }
    const field = canonicalCreditField(label);
    if (field === 'year') {
      const m = YEAR.exec(value);
      if (m) out.year ??= Number(m[1]);
      else out.attributes.year = value;
    } else if (field) {
      out[field] = addValue(out[field], value);
    } else {
      const key = normaliseLabel(label).replace(/ /g, '_');
      out.attributes[key] = out.attributes[key] === undefined ? value : addValue(out.attributes[key], value);
    }
  }
  return out;
}

/** The MovieSpec fields of some credits (title and source URL are the caller's). */
export function creditsToSpec(c: Credits): Omit<MovieSpec, 'title'> {
  const spec: Omit<MovieSpec, 'title'> = {};
  if (c.year !== undefined) spec.year = c.year;
  if (c.director) spec.director = c.director;
  if (c.cinematographer) spec.cinematographer = c.cinematographer;
  if (c.productionDesign) spec.productionDesign = c.productionDesign;
  if (c.costumeDesign) spec.costumeDesign = c.costumeDesign;
  if (Object.keys(c.attributes).length > 0) spec.attributes = { ...c.attributes };
  return spec;
}
