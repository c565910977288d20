/**
 * Layouts stored in the atlas by name: `<atlas>/maps/<name>/` holds xy.f32 (n × 2
 * little-endian float32, row i ↔ ids[i]), ids.u32 (the still id of each row) and
 * layout.json (what made it). A layout is written into a fresh directory and
 * swapped in whole (`replaceDir`), so a reader sees the old layout or the new one,
 * never a mix, and a crash leaves only a stray temporary directory that listings skip.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AtlasError } from '../errors.js';
import type { Atlas } from './atlas.js';
import { isTempName, replaceDirSync } from './files.js';
import { isArtefactName, layoutDir } from './paths.js';

// `layout.json`'s shape is defined once, in the API contract, which serves it as is.
import type { LayoutManifest } from '../api/contract.js';
export type { LayoutManifest };

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

function toBuffer(a: Float32Array | Uint32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes (or replaces) a layout; returns its manifest. */
export function writeLayout(atlas: Pick<Atlas, 'paths'>, layout: NewLayout): LayoutManifest {
  const dir = layoutDir(atlas.paths, layout.name);
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
  replaceDirSync(dir, (tmp) => {
    writeFileSync(join(tmp, 'xy.f32'), toBuffer(layout.xy));
    writeFileSync(join(tmp, 'ids.u32'), toBuffer(layout.ids));
    writeFileSync(join(tmp, 'layout.json'), JSON.stringify(manifest, null, 2) + '\n');
  });
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
export function readLayout(atlas: Pick<Atlas, 'paths'>, name: string): StoredLayout {
  const dir = layoutDir(atlas.paths, name);
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
export function listLayouts(atlas: Pick<Atlas, 'paths'>): LayoutManifest[] {
  if (!existsSync(atlas.paths.maps)) return [];
  const out: LayoutManifest[] = [];
  for (const entry of readdirSync(atlas.paths.maps, { withFileTypes: true })) {
    if (!entry.isDirectory() || !isArtefactName(entry.name) || isTempName(entry.name)) continue;
    const p = join(layoutDir(atlas.paths, entry.name), 'layout.json');
    if (!existsSync(p)) continue;
    try {
      out.push(JSON.parse(readFileSync(p, 'utf8')) as LayoutManifest);
    } catch {
      // A damaged manifest is reported by readLayout when that layout is asked for.
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
