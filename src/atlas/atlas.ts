import { existsSync, mkdirSync, statSync } from 'node:fs';
import type { Catalog } from '../catalog/catalog.js';
import { SqliteCatalog } from '../catalog/sqlite.js';
import { AtlasError } from '../errors.js';
import { atlasPaths, type AtlasPaths } from './paths.js';
import { LocalBlobStore, openBlobStore, RoutedBlobStore, type BlobStore } from '../store/blobs.js';

export { atlasPaths, type AtlasPaths } from './paths.js';

/** An open atlas directory: its catalogue, its blob store and where things live. */
export interface Atlas {
  readonly paths: AtlasPaths;
  readonly catalog: Catalog;
  readonly store: BlobStore;
  close(): Promise<void>;
}

export interface OpenAtlasOptions {
  /** Create the directory and catalogue when missing. Default false: a missing atlas is an error. */
  create?: boolean;
  /** Open the catalogue read-only (no migrations, no writes). Default false. */
  readonly?: boolean;
  /**
   * Where originals are kept: `s3://bucket/prefix` (S3 or S3-compatible) or `file:DIR`.
   * Default: the store recorded in the atlas, else local files beside the catalogue.
   * Recorded on first use; an atlas that already holds blobs cannot switch stores.
   */
  store?: string;
  /** Endpoint of an S3-compatible server for an s3:// store. Default: the recorded one, else AWS. */
  endpoint?: string;
  /** Keep standardised stills in the store too, not on local disk. Default false; recorded with the store. */
  storeStills?: boolean;
}

/** Opens the atlas's blob store, recording a newly chosen one in the catalogue so later opens find it. */
async function openAtlasStore(catalog: Catalog, root: string, options: OpenAtlasOptions): Promise<BlobStore> {
  const local = new LocalBlobStore(root);
  const recorded = await catalog.getMeta('store.url');
  let url = recorded;
  if (options.store !== undefined && options.store !== recorded) {
    const wanted = openBlobStore(options.store).url; // validates and normalises the URL
    if (recorded !== undefined && recorded !== wanted) {
      throw new AtlasError('ATLAS', `the atlas ${root} keeps its blobs in ${recorded}, not ${wanted}`, {
        value: options.store,
        suggestion: 'leave out --store, or start a new atlas for the other store',
      });
    }
    if (recorded === undefined && wanted !== local.url && !options.readonly) {
      if (await catalog.hasOriginals()) {
        throw new AtlasError(
          'ATLAS',
          `the atlas ${root} already holds blobs on local disk; it cannot move to ${wanted}`,
          {
            value: options.store,
            suggestion: 'choose the store when the atlas is created (its first ingest)',
          },
        );
      }
      await catalog.setMeta('store.url', wanted);
      await catalog.setMeta('store.stills', options.storeStills ? 'store' : 'local');
    }
    url = wanted;
  }
  if (options.endpoint !== undefined && !options.readonly && url !== undefined)
    await catalog.setMeta('store.endpoint', options.endpoint);
  if (url === undefined || url === local.url) return local;
  const store = openBlobStore(url, {
    endpoint: options.endpoint ?? (await catalog.getMeta('store.endpoint')),
  });
  const stillsInStore =
    ((await catalog.getMeta('store.stills')) ?? (options.storeStills ? 'store' : 'local')) === 'store';
  return stillsInStore ? store : new RoutedBlobStore({ originals: store, stills: local });
}

export async function openAtlas(dir: string, options: OpenAtlasOptions = {}): Promise<Atlas> {
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
  const catalog = SqliteCatalog.open(paths.db, { readonly: options.readonly });
  // Blobs live beside the catalogue (<root>/originals and <root>/stills) unless the atlas records another store.
  let store: BlobStore;
  try {
    store = await openAtlasStore(catalog, paths.root, options);
  } catch (err) {
    await catalog.close();
    throw err;
  }
  return {
    paths,
    catalog,
    store,
    close: () => catalog.close(),
  };
}
