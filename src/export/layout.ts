/**
 * A stored layout (map or grid) exported for notebooks and other tools:
 *
 * - `csv`: `still_id,movie,ordinal,x,y` (grids add `col,row`, the integer cell), one
 *   line per still, in layout order;
 * - `json`: `{"layout", "kind", "method", "features", "n", "grid"?, "params", "stats",
 *   "points": [{"still_id", "movie", "ordinal", "x", "y", "col"?, "row"?}, …]}`;
 * - `npy`: the n × 2 float32 coordinates (row i ↔ line i of the CSV).
 */
import { open } from 'node:fs/promises';
import { statSync } from 'node:fs';
import type { Atlas } from '../atlas/atlas.js';
import { movieLabel } from '../catalog/catalog.js';
import { AtlasError, unknownChoice } from '../errors.js';
import { readLayout } from '../atlas/layouts.js';
import { csvField } from '../sources/csv.js';
import { npyHeader } from './npy.js';
import { TextSink, writeAllTo } from './io.js';
import { formatFloat32 } from './text.js';

export const LAYOUT_EXPORT_FORMATS = ['csv', 'json', 'npy'] as const;
export type LayoutExportFormat = (typeof LAYOUT_EXPORT_FORMATS)[number];

export interface LayoutExportResult {
  layout: string;
  kind: 'points' | 'grid';
  format: LayoutExportFormat;
  path: string;
  n: number;
  bytes: number;
}

interface StillInfo {
  movie: string;
  ordinal: number | null;
}

async function stillInfo(atlas: Atlas): Promise<Map<number, StillInfo>> {
  const labels = new Map<number, string>();
  for (const m of await atlas.catalog.movies()) labels.set(m.id, movieLabel(m));
  const rows = await atlas.catalog.stillRefs();
  return new Map(rows.map((r) => [r.id, { movie: labels.get(r.movieId) ?? '', ordinal: r.ordinal }]));
}

/** Writes the layout `name` of the atlas to `path` as `format`. */
export async function exportLayout(
  atlas: Atlas,
  name: string,
  format: string,
  path: string,
): Promise<LayoutExportResult> {
  if (!(LAYOUT_EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw unknownChoice('layout export format', format, LAYOUT_EXPORT_FORMATS);
  }
  const fmt = format as LayoutExportFormat;
  const { manifest, xy, ids } = readLayout(atlas, name);
  const n = manifest.n;
  const grid = manifest.kind === 'grid';
  let fh;
  try {
    fh = await open(path, 'w');
  } catch (cause) {
    throw new AtlasError('IO', `cannot write ${path}`, { value: path, cause });
  }
  try {
    if (fmt === 'npy') {
      await writeAllTo(fh, npyHeader([n, 2], '<f4'));
      await writeAllTo(fh, new Uint8Array(xy.buffer, xy.byteOffset, xy.byteLength));
    } else {
      const info = await stillInfo(atlas);
      const sink = new TextSink(fh);
      if (fmt === 'csv') await sink.add(`still_id,movie,ordinal,x,y${grid ? ',col,row' : ''}\n`);
      else {
        const head = {
          layout: manifest.name,
          kind: manifest.kind,
          method: manifest.method,
          features: manifest.features,
          n,
          ...(manifest.grid ? { grid: manifest.grid } : {}),
          params: manifest.params,
          stats: manifest.stats ?? {},
        };
        const text = JSON.stringify(head);
        await sink.add(text.slice(0, -1) + ',"points":[');
      }
      for (let i = 0; i < n; i++) {
        const id = ids[i];
        const s = info.get(id);
        const movie = s?.movie ?? '';
        const ordinal = s?.ordinal ?? null;
        const x = xy[2 * i];
        const y = xy[2 * i + 1];
        if (fmt === 'csv') {
          let line = `${id},${csvField(movie)},${ordinal ?? ''},${formatFloat32(x)},${formatFloat32(y)}`;
          if (grid) line += `,${x},${y}`;
          await sink.add(line + '\n');
        } else {
          let line = `${i === 0 ? '' : ','}\n{"still_id":${id},"movie":${JSON.stringify(movie)},"ordinal":${ordinal ?? 'null'},"x":${formatFloat32(x)},"y":${formatFloat32(y)}`;
          if (grid) line += `,"col":${x},"row":${y}`;
          await sink.add(line + '}');
        }
      }
      if (fmt === 'json') await sink.add(n === 0 ? ']}\n' : '\n]}\n');
      await sink.flush();
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { layout: manifest.name, kind: manifest.kind, format: fmt, path, n, bytes: statSync(path).size };
}
