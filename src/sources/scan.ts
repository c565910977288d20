import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { MovieSpec } from '../catalog/catalog.js';
import { AtlasError } from '../errors.js';
import { parseCsv } from './csv.js';

/** File endings taken as stills. Anything else in a movie folder is ignored (notes, .DS_Store, ...). */
export const STILL_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.png',
  '.gif',
  '.webp',
  '.tif',
  '.tiff',
  '.avif',
  '.heic',
  '.heif',
]);

export interface PlannedMovie {
  spec: MovieSpec;
  /** Absolute paths, in film order. */
  files: string[];
}

export interface SourcePlan {
  movies: PlannedMovie[];
  /** Things skipped that a person should know about (missing folders in a manifest, ...). */
  warnings: string[];
}

/** Natural order: "still-2" before "still-10", case-insensitive. */
export const naturalCompare = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }).compare;

/** "The Long Night (1999)" → { title: "The Long Night", year: 1999 }. */
export function parseMovieFolderName(name: string): { title: string; year?: number } {
  const m = /^(.*?)\s*\((\d{4})\)\s*$/.exec(name);
  if (m && m[1].length > 0) return { title: m[1], year: Number(m[2]) };
  return { title: name.trim() || name };
}

function isStill(name: string): boolean {
  return !name.startsWith('.') && STILL_EXTENSIONS.has(extname(name).toLowerCase());
}

async function listStills(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && isStill(e.name))
    .map((e) => e.name)
    .sort(naturalCompare)
    .map((n) => join(dir, n));
}

/** Manifest column names (and the variants people write) → MovieSpec fields. */
const MANIFEST_FIELDS: Record<string, keyof MovieSpec | 'folder' | 'files'> = {
  title: 'title',
  year: 'year',
  director: 'director',
  director_of_photography: 'cinematographer',
  cinematographer: 'cinematographer',
  dop: 'cinematographer',
  production_design: 'productionDesign',
  production_designer: 'productionDesign',
  productiondesign: 'productionDesign',
  costume_design: 'costumeDesign',
  costume_designer: 'costumeDesign',
  costumedesign: 'costumeDesign',
  source_url: 'sourceUrl',
  sourceurl: 'sourceUrl',
  url: 'sourceUrl',
  folder: 'folder',
  dir: 'folder',
  files: 'files',
};

function normaliseKey(k: string): string {
  return k
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

type ManifestRecord = Record<string, unknown>;

async function readManifestRecords(path: string): Promise<ManifestRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AtlasError('BAD_MANIFEST', `cannot read manifest ${path}: ${(cause as Error).message}`, {
      value: path,
      cause,
    });
  }
  if (path.toLowerCase().endsWith('.json')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (cause) {
      throw new AtlasError(
        'BAD_MANIFEST',
        `manifest ${path} is not valid JSON: ${(cause as Error).message}`,
        {
          value: path,
          cause,
        },
      );
    }
    const list = Array.isArray(data) ? data : (data as { movies?: unknown })?.movies;
    if (!Array.isArray(list)) {
      throw new AtlasError(
        'BAD_MANIFEST',
        `manifest ${path} must be an array of movies or {"movies": [...]}`,
        {
          value: path,
        },
      );
    }
    return list.map((r, i) => {
      if (r === null || typeof r !== 'object' || Array.isArray(r)) {
        throw new AtlasError('BAD_MANIFEST', `manifest ${path}: movie #${i + 1} is not an object`, {
          value: path,
        });
      }
      return r as ManifestRecord;
    });
  }
  let rows: string[][];
  try {
    rows = parseCsv(text);
  } catch (cause) {
    throw new AtlasError('BAD_MANIFEST', `manifest ${path} is not valid CSV: ${(cause as Error).message}`, {
      value: path,
      cause,
    });
  }
  rows = rows.filter((r) => r.some((c) => c.trim() !== ''));
  if (rows.length === 0) throw new AtlasError('BAD_MANIFEST', `manifest ${path} is empty`, { value: path });
  const header = rows[0].map(normaliseKey);
  if (!header.includes('title')) {
    throw new AtlasError(
      'BAD_MANIFEST',
      `manifest ${path} has no 'title' column (columns: ${header.join(', ')})`,
      {
        value: path,
      },
    );
  }
  return rows.slice(1).map((cells, i) => {
    if (cells.length > header.length) {
      throw new AtlasError(
        'BAD_MANIFEST',
        `manifest ${path} line ${i + 2}: ${cells.length} fields but the header has ${header.length}`,
        { value: path },
      );
    }
    const rec: ManifestRecord = {};
    header.forEach((h, j) => {
      if (cells[j] !== undefined && cells[j] !== '') rec[h] = cells[j];
    });
    return rec;
  });
}

function toSpecAndFiles(
  rec: ManifestRecord,
  where: string,
): { spec: MovieSpec; folder?: string; files?: string[] } {
  const spec: MovieSpec = { title: '' };
  const attributes: Record<string, string> = {};
  let folder: string | undefined;
  let files: string[] | undefined;
  for (const [rawKey, rawValue] of Object.entries(rec)) {
    if (rawValue === null || rawValue === undefined || rawValue === '') continue;
    const key = normaliseKey(rawKey.replace(/([a-z])([A-Z])/g, '$1_$2'));
    const field = MANIFEST_FIELDS[key];
    if (field === 'files') {
      files = Array.isArray(rawValue)
        ? rawValue.map(String)
        : String(rawValue)
            .split(';')
            .map((s) => s.trim());
      files = files.filter((f) => f.length > 0);
    } else if (field === 'folder') folder = String(rawValue);
    else if (field === 'year') {
      const y = Number(rawValue);
      if (!Number.isInteger(y) || y < 1870 || y > 2100) {
        throw new AtlasError(
          'BAD_MANIFEST',
          `${where}: year must be a whole number 1870–2100 but is '${rawValue}'`,
          {
            value: String(rawValue),
          },
        );
      }
      spec.year = y;
    } else if (field === 'attributes') {
      Object.assign(attributes, rawValue);
    } else if (field) {
      (spec as unknown as Record<string, string>)[field] = String(rawValue).trim();
    } else attributes[key] = typeof rawValue === 'string' ? rawValue : JSON.stringify(rawValue);
  }
  if (!spec.title) throw new AtlasError('BAD_MANIFEST', `${where}: the movie has no title`, { value: where });
  if (Object.keys(attributes).length > 0) spec.attributes = attributes;
  return { spec, folder, files };
}

async function planManifest(path: string, warnings: string[]): Promise<PlannedMovie[]> {
  const base = dirname(path);
  const records = await readManifestRecords(path);
  const out: PlannedMovie[] = [];
  for (const [i, rec] of records.entries()) {
    const where = `${path} ${path.endsWith('.json') ? 'movie #' + (i + 1) : 'line ' + (i + 2)}`;
    const { spec, folder, files } = toSpecAndFiles(rec, where);
    if (files) {
      out.push({ spec, files: files.map((f) => (isAbsolute(f) ? f : resolve(base, f))) });
      continue;
    }
    const label = spec.year ? `${spec.title} (${spec.year})` : spec.title;
    const dir = resolve(base, folder ?? label);
    if (!existsSync(dir)) {
      warnings.push(`${where}: folder not found: ${dir} (movie '${label}' has no stills)`);
      out.push({ spec, files: [] });
      continue;
    }
    out.push({ spec, files: await listStills(dir) });
  }
  return out;
}

/**
 * Works out which movies and stills the given sources hold:
 * - a `movies.csv` / `movies.json` manifest (or a folder that holds one): metadata
 *   and, per movie, a `folder` or a `files` list (else the folder `Title (Year)`);
 * - a folder of movie folders named `Title (Year)`, stills inside in natural order;
 * - a folder of stills (one movie, named after the folder); or single still files.
 */
export async function scanSources(sources: readonly string[]): Promise<SourcePlan> {
  const warnings: string[] = [];
  const byKey = new Map<string, PlannedMovie>();
  const add = (m: PlannedMovie): void => {
    const key = `${m.spec.title}\u0000${m.spec.year ?? ''}`;
    const prev = byKey.get(key);
    if (prev) {
      prev.files.push(...m.files.filter((f) => !prev.files.includes(f)));
      prev.spec = { ...m.spec, ...prev.spec, attributes: { ...m.spec.attributes, ...prev.spec.attributes } };
    } else byKey.set(key, m);
  };
  for (const src of sources) {
    const path = resolve(src);
    let st;
    try {
      st = await stat(path);
    } catch {
      throw new AtlasError('NOT_FOUND', `source not found: ${path}`, { value: src });
    }
    if (st.isFile()) {
      const name = basename(path).toLowerCase();
      if (name.endsWith('.csv') || name.endsWith('.json')) (await planManifest(path, warnings)).forEach(add);
      else if (isStill(name)) add({ spec: parseMovieFolderName(basename(dirname(path))), files: [path] });
      else
        throw new AtlasError('INVALID_ARGUMENT', `not a still, folder or manifest: ${path}`, { value: src });
      continue;
    }
    const manifest = ['movies.csv', 'movies.json'].map((n) => join(path, n)).find((p) => existsSync(p));
    if (manifest) {
      (await planManifest(manifest, warnings)).forEach(add);
      continue;
    }
    const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) =>
      naturalCompare(a.name, b.name),
    );
    const loose = entries.filter((e) => e.isFile() && isStill(e.name));
    if (loose.length > 0) {
      add({ spec: parseMovieFolderName(basename(path)), files: loose.map((e) => join(path, e.name)) });
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const files = await listStills(join(path, e.name));
      if (files.length === 0) warnings.push(`folder has no stills: ${join(path, e.name)}`);
      add({ spec: parseMovieFolderName(e.name), files });
    }
    if (loose.length === 0 && !entries.some((e) => e.isDirectory() && !e.name.startsWith('.'))) {
      warnings.push(`no stills or movie folders found in ${path}`);
    }
  }
  return { movies: [...byKey.values()], warnings };
}
