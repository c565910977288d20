/**
 * Layouts stored in the atlas by name: `<atlas>/maps/<name>/` holds xy.f32 (n × 2
 * little-endian float32, row i ↔ ids[i]), ids.u32 (the still id of each row) and
 * layout.json (what made it). A layout is written into a fresh directory and
 * swapped in whole, so a reader sees the old layout or the new one, never a mix,
 * and a crash leaves only a stray temporary directory that the next write removes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Atlas } from '../atlas/atlas.js';
import { AtlasError } from '../errors.js';

export interface LayoutManifest {
  version: 1;
  name: string;
  /** 'points': free 2-D coordinates (PCA, t-SNE, UMAP); 'grid': integer cells (x = column, y = row). */
  kind: 'points' | 'grid';
  /** The feature set the layout was made from (for a grid: of its source layout). */
  features: string;
  method: string;
  params: Record<string, unknown>;
  n: number;
  createdAt: string;
  grid?: { rows: number; cols: number };
  stats?: Record<string, unknown>;
}

export interface StoredLayout {
  manifest: LayoutManifest;
  xy: Float32Array;
  ids: Uint32Array;
}

export interface NewLayout {
  name: string;
  kind: 'points' | 'grid';
  features: string;
  method: string;
  params: Record<string, unknown>;
  xy: Float32Array;
  ids: Uint32Array;
  grid?: { rows: number; cols: number };
  stats?: Record<string, unknown>;
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;

/** Checks a layout name (it becomes a directory name) and returns it. */
export function checkLayoutName(name: string): string {
  if (!NAME.test(name) || name.includes('..')) {
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `bad layout name '${name}': use letters, digits, '-', '_' or '.' (at most 64)`,
      {
        value: name,
      },
    );
  }
  return name;
}

export function layoutDir(atlas: Atlas, name: string): string {
  return join(atlas.paths.maps, checkLayoutName(name));
}

function toBuffer(a: Float32Array | Uint32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes (or replaces) a layout; returns its manifest. */
export function writeLayout(atlas: Atlas, layout: NewLayout): LayoutManifest {
  const dir = layoutDir(atlas, layout.name);
  const n = layout.ids.length;
  if (layout.xy.length !== 2 * n) {
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `layout '${layout.name}': ${layout.xy.length} coordinates for ${n} stills (want ${2 * n})`,
      {
        value: layout.name,
      },
    );
  }
  for (let i = 0; i < layout.xy.length; i++) {
    if (!Number.isFinite(layout.xy[i])) {
      throw new AtlasError('STATE', `layout '${layout.name}': coordinate ${i >> 1} is not finite`, {
        value: layout.name,
      });
    }
  }
  const manifest: LayoutManifest = {
    version: 1,
    name: layout.name,
    kind: layout.kind,
    features: layout.features,
    method: layout.method,
    params: layout.params,
    n,
    createdAt: new Date().toISOString(),
    ...(layout.grid ? { grid: layout.grid } : {}),
    ...(layout.stats ? { stats: layout.stats } : {}),
  };
  mkdirSync(atlas.paths.maps, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeFileSync(join(tmp, 'xy.f32'), toBuffer(layout.xy));
  writeFileSync(join(tmp, 'ids.u32'), toBuffer(layout.ids));
  writeFileSync(join(tmp, 'layout.json'), JSON.stringify(manifest, null, 2) + '\n');
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
  return manifest;
}

function readBinary(path: string, what: string, name: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new AtlasError('ATLAS', `layout '${name}': ${what} ${path} is unreadable`, { value: path, cause });
  }
}

/** Reads a stored layout; a missing or damaged one is an error naming it and the layouts there are. */
export function readLayout(atlas: Atlas, name: string): StoredLayout {
  const dir = layoutDir(atlas, name);
  const mpath = join(dir, 'layout.json');
  if (!existsSync(mpath)) {
    const known = listLayouts(atlas).map((m) => m.name);
    throw new AtlasError('NOT_FOUND', `no layout named '${name}' in ${atlas.paths.root}`, {
      value: name,
      suggestion: known.length ? `known layouts: ${known.join(', ')}` : 'make one with `filmatlas map`',
    });
  }
  let manifest: LayoutManifest;
  try {
    manifest = JSON.parse(readFileSync(mpath, 'utf8')) as LayoutManifest;
  } catch (cause) {
    throw new AtlasError('ATLAS', `layout '${name}': ${mpath} is not valid JSON`, { value: mpath, cause });
  }
  const xyb = readBinary(join(dir, 'xy.f32'), 'coordinates', name);
  const idb = readBinary(join(dir, 'ids.u32'), 'ids', name);
  if (xyb.length !== manifest.n * 8 || idb.length !== manifest.n * 4) {
    throw new AtlasError(
      'ATLAS',
      `layout '${name}' is damaged: ${manifest.n} stills in layout.json, files hold ${xyb.length / 8} and ${idb.length / 4}`,
      {
        value: dir,
        suggestion: 'make the layout again',
      },
    );
  }
  // Copies: aligned, and independent of the file buffers.
  const xy = new Float32Array(manifest.n * 2);
  new Uint8Array(xy.buffer).set(xyb);
  const ids = new Uint32Array(manifest.n);
  new Uint8Array(ids.buffer).set(idb);
  return { manifest, xy, ids };
}

/** Manifests of all layouts in the atlas, by name. */
export function listLayouts(atlas: Atlas): LayoutManifest[] {
  if (!existsSync(atlas.paths.maps)) return [];
  const out: LayoutManifest[] = [];
  for (const entry of readdirSync(atlas.paths.maps, { withFileTypes: true })) {
    if (!entry.isDirectory() || !NAME.test(entry.name) || /\.(tmp|old)-\d+$/.test(entry.name)) continue;
    const p = join(atlas.paths.maps, entry.name, 'layout.json');
    if (!existsSync(p)) continue;
    try {
      out.push(JSON.parse(readFileSync(p, 'utf8')) as LayoutManifest);
    } catch {
      // A damaged manifest is reported by readLayout when that layout is asked for.
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
