/**
 * Where every artefact of an atlas lives: one table, so a stage never builds an
 * atlas path by hand. The layout on disk:
 *
 * ```
 * <root>/atlas.db                      the catalogue (SQLite, WAL)
 * <root>/originals/ab/<sha256>.<ext>   original files as received (content-addressed)
 * <root>/stills/ab/<sha256>.png        standardised 224×126 stills (content-addressed)
 * <root>/features/<model>/             matrix.f32 + ids + manifest.json per feature set
 * <root>/maps/<layout>/                layout.json, xy.f32, ids.u32 (+ mosaic, deep zoom)
 * <root>/clusters/<name>/              labels.json, clusters.json
 * <root>/looks/palettes/<space>-k<k>/  per-still and per-movie palettes
 * <root>/looks/index/<model>-<norm>/   approximate nearest-neighbour indexes
 * <root>/looks/stats/<model>.json      cached column statistics of a feature set
 * <root>/models/<name>/                models trained on this atlas
 * <root>/tmp/                          work files of running stages (safe to delete when idle)
 * ```
 */
import { join, resolve } from 'node:path';
import { AtlasError } from '../errors.js';

export interface AtlasPaths {
  root: string;
  /** The SQLite catalogue. */
  db: string;
  originals: string;
  stills: string;
  features: string;
  maps: string;
  clusters: string;
  /** Parent of palettes, index and stats. */
  looks: string;
  palettes: string;
  index: string;
  stats: string;
  models: string;
  tmp: string;
}

export function atlasPaths(dir: string): AtlasPaths {
  const root = resolve(dir);
  const looks = join(root, 'looks');
  return {
    root,
    db: join(root, 'atlas.db'),
    originals: join(root, 'originals'),
    stills: join(root, 'stills'),
    features: join(root, 'features'),
    maps: join(root, 'maps'),
    clusters: join(root, 'clusters'),
    looks,
    palettes: join(looks, 'palettes'),
    index: join(looks, 'index'),
    stats: join(looks, 'stats'),
    models: join(root, 'models'),
    tmp: join(root, 'tmp'),
  };
}

/** Names that become directory names under the atlas: letters, digits, '-', '_', '.', at most 64, no '..'. */
const ARTEFACT_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;

/** Checks a name that becomes a directory (a layout, a clustering, a model, a feature set) and returns it. */
export function checkArtefactName(what: string, name: string): string {
  if (!ARTEFACT_NAME.test(name) || name.includes('..')) {
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `bad ${what} name '${name}': use letters, digits, '-', '_' or '.' (at most 64)`,
      {
        value: name,
      },
    );
  }
  return name;
}

/** Whether `name` is a valid artefact name (for listings that skip foreign entries). */
export function isArtefactName(name: string): boolean {
  return ARTEFACT_NAME.test(name) && !name.includes('..');
}

/** `<root>/features/<model>/`. */
export function featureDir(paths: AtlasPaths, model: string): string {
  return join(paths.features, checkArtefactName('feature set', model));
}

/** `<root>/maps/<name>/`. */
export function layoutDir(paths: AtlasPaths, name: string): string {
  return join(paths.maps, checkArtefactName('layout', name));
}

/** `<root>/clusters/<name>/`. */
export function clusterDir(paths: AtlasPaths, name: string): string {
  return join(paths.clusters, checkArtefactName('clustering', name));
}

/** `<root>/looks/palettes/<space>-k<k>/`. */
export function paletteDir(paths: AtlasPaths, space: string, k: number): string {
  return join(paths.palettes, `${space}-k${k}`);
}

/** `<root>/looks/index/<model>-<normalisation>/`. */
export function indexDir(paths: AtlasPaths, model: string, normalize: string): string {
  return join(paths.index, `${checkArtefactName('feature set', model)}-${normalize}`);
}

/** `<root>/looks/stats/<model>.json`. */
export function statsFile(paths: AtlasPaths, model: string): string {
  return join(paths.stats, `${checkArtefactName('feature set', model)}.json`);
}

/** `<root>/models/<name>/`. */
export function modelDir(paths: AtlasPaths, name: string): string {
  return join(paths.models, checkArtefactName('model', name));
}

/** `<root>/maps/<name>/<name>.dzi`: a grid layout's deep-zoom descriptor, as `render --deepzoom` writes it. */
export function deepZoomFile(paths: AtlasPaths, name: string): string {
  return join(layoutDir(paths, name), `${name}.dzi`);
}

/** `<root>/maps/<name>/<name>_files/`: the deep-zoom tile pyramid beside the descriptor. */
export function deepZoomTiles(paths: AtlasPaths, name: string): string {
  return join(layoutDir(paths, name), `${name}_files`);
}
