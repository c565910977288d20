import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Catalog } from '../catalog/catalog.js';
import { AtlasError } from '../errors.js';
import { LocalBlobStore, type BlobStore } from '../store/blobs.js';

export interface AtlasPaths {
  root: string;
  db: string;
  originals: string;
  stills: string;
  features: string;
  maps: string;
}

/** An open atlas directory: its catalogue, its blob store and where things live. */
export interface Atlas {
  readonly paths: AtlasPaths;
  readonly catalog: Catalog;
  readonly store: BlobStore;
  close(): void;
}

export interface OpenAtlasOptions {
  /** Create the directory and catalogue when missing. Default false: a missing atlas is an error. */
  create?: boolean;
  /** Open the catalogue read-only (no migrations, no writes). Default false. */
  readonly?: boolean;
}

export function atlasPaths(dir: string): AtlasPaths {
  const root = resolve(dir);
  return {
    root,
    db: join(root, 'atlas.db'),
    originals: join(root, 'originals'),
    stills: join(root, 'stills'),
    features: join(root, 'features'),
    maps: join(root, 'maps'),
  };
}

export function openAtlas(dir: string, options: OpenAtlasOptions = {}): Atlas {
  const paths = atlasPaths(dir);
  if (existsSync(paths.root) && !statSync(paths.root).isDirectory()) {
    throw new AtlasError('ATLAS', `${paths.root} is a file, not an atlas directory`, { value: paths.root });
  }
  if (!existsSync(paths.db)) {
    if (!options.create) {
      throw new AtlasError('ATLAS', `no atlas at ${paths.root} (atlas.db not found)`, {
        value: paths.root,
        suggestion: 'create one with `filmatlas ingest SRC --atlas DIR`',
      });
    }
    mkdirSync(paths.root, { recursive: true });
  }
  for (const d of [paths.originals, paths.stills, paths.features, paths.maps]) {
    if (!options.readonly) mkdirSync(d, { recursive: true });
  }
  const catalog = Catalog.open(paths.db, { readonly: options.readonly });
  // Blobs live beside the catalogue: <root>/originals and <root>/stills.
  const store = new LocalBlobStore(paths.root);
  return {
    paths,
    catalog,
    store,
    close: () => catalog.close(),
  };
}
