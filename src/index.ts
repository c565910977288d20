/**
 * Film Atlas as a library. The `filmatlas` CLI is a thin layer over exactly these
 * functions, so anything the CLI does can be scripted from TypeScript:
 *
 * ```ts
 * import { openAtlas, ingestStills, embedStills, exportFeatures, atlasFeatureSource } from 'filmatlas';
 * const atlas = await openAtlas('./atlas', { create: true });
 * await ingestStills(atlas, ['./stills']);
 * await embedStills(atlas, { model: 'color' });
 * await exportFeatures(await atlasFeatureSource(atlas, 'color'), 'npy', 'color.npy');
 * await atlas.close();
 * ```
 */
export * from './errors.js';
export type * from './types.js';

export { openAtlas, atlasPaths, type Atlas, type AtlasPaths, type OpenAtlasOptions } from './atlas/atlas.js';
// The atlas's files: where each artefact lives, crash-safe writes, and the readers every stage uses.
export {
  featureDir,
  layoutDir,
  clusterDir,
  paletteDir,
  indexDir,
  statsFile,
  modelDir,
  deepZoomFile,
  deepZoomTiles,
  checkArtefactName,
} from './atlas/paths.js';
export {
  writeAtomic,
  writeJsonAtomic,
  writeAtomicVia,
  writeAtomicViaSync,
  replaceDir,
  replaceDirSync,
  readJsonFile,
  isTempName,
  type WriteAtomicOptions,
} from './atlas/files.js';
export {
  readStill,
  readStill as loadStill,
  readStillScaled,
  decodeRgb,
  stillPictures,
  type StillKey,
  type StillPictures,
} from './atlas/stills.js';
export {
  listClusterings,
  readClusters,
  readClusterLabels,
  readClusterSummary,
  writeClusters,
  type ClusterLabels,
  type StoredClusters,
  type StoredClustering,
  type StillRef,
} from './atlas/clusters.js';
export { writePaletteSet, type NewPaletteSet, type PaletteManifest } from './atlas/palettes.js';
export {
  Catalog,
  movieLabel,
  movieSlug,
  type CatalogCounts,
  type MovieRow,
  type MovieSpec,
  type StillRow,
  type StillStatus,
  type StillUpdate,
  type CrawlKind,
  type CrawlStatus,
  type CrawlPageRow,
  type CrawlPageUpdate,
  type StoredOriginal,
} from './catalog/catalog.js';
export { LocalBlobStore, type BlobKind, type BlobStore } from './store/blobs.js';
export { atlasStatus, type AtlasStatus, type RejectedStill } from './status/status.js';

export {
  scanSources,
  naturalCompare,
  parseMovieFolderName,
  STILL_EXTENSIONS,
  type SourcePlan,
} from './sources/scan.js';
export { parseCsv, toCsv } from './sources/csv.js';
export {
  ingestStills,
  registerSources,
  standardiseStills,
  type IngestOptions,
  type IngestResult,
  type StandardiseResult,
  type StandardiseStillsOptions,
} from './sources/ingest.js';
export * from './sources/sample/index.js';
export { writeHostileFiles, type HostileCase } from './sources/hostile.js';
export * from './sources/filmgrab/index.js';
export {
  ingestVideo,
  extractSceneFrames,
  sceneSelectExpression,
  type SceneOptions,
  type SceneFrame,
  type VideoOptions,
  type VideoResult,
} from './sources/video.js';
export { addOriginalStill, sniffImageExtension } from './sources/ingest.js';
export { S3BlobStore, parseS3Url, type S3StoreOptions } from './store/s3.js';
export { RoutedBlobStore, openBlobStore } from './store/blobs.js';

export {
  standardiseImage,
  stillGeometry,
  encodeRgbPng,
  configureSharp,
  FITS,
  STILL_WIDTH,
  STILL_HEIGHT,
  type FitMode,
  type StandardiseOptions,
  type StandardisedStill,
} from './imaging/standardise.js';
export { nativeJpegAvailable, nativeJpegStatus } from './imaging/native-jpeg.js';
export { srgbToLab, srgbToHsl, labToSrgb, toHex } from './imaging/colour.js';

export type { Embedder, EmbedderEntry, EmbedderOptions } from './embed/embedder.js';
export { EMBEDDERS } from './embed/registry.js';
export { embedStills, type EmbedOptions, type EmbedResult } from './embed/run.js';
export { colorFeatures, createColorEmbedder, COLOR_DIM } from './embed/color.js';
export { FeatureReader, FeatureWriter, type FeatureManifest } from './embed/features.js';
export { MODELS, pullModel, findCachedModel, type PullOptions, type PullResult } from './embed/pull.js';
export { cacheDir, modelCacheDir } from './embed/cache.js';
export { createVgg16Embedder } from './embed/vgg16/embedder.js';

export {
  exportFeatures,
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportFormatEntry,
  type ExportOptions,
  type ExportResult,
  type FeatureSource,
} from './export/features.js';
export { atlasFeatureSource } from './export/source.js';
export {
  exportLayout,
  LAYOUT_EXPORT_FORMATS,
  type LayoutExportFormat,
  type LayoutExportResult,
} from './export/layout.js';

// Maps: PCA (streamed), t-SNE and UMAP to 2-D, stored as named layouts.
export {
  fitPca,
  fitTransformPca,
  transformPca,
  PCA_METHODS,
  type PcaModel,
  type PcaOptions,
} from './numeric/pca.js';
export { symmetricEigen, type SymmetricEigen } from './numeric/eigen.js';
export {
  knn,
  KnnIndex,
  leadingNeighbours,
  KNN_METRICS,
  type KnnResult,
  type KnnOptions,
  type KnnIndexOptions,
  type KnnSearchOptions,
  type KnnMetric,
} from './numeric/knn.js';
export { type OptionSpec } from './validate.js';
export { tsne, type TsneOptions } from './layout/tsne.js';
export { umap, type UmapOptions } from './layout/umap.js';
export {
  mapLayout,
  checkMapOptions,
  MAP_OPTIONS,
  reducer,
  REDUCERS,
  type MapOptions,
  type MapResult,
  type ReduceMethod,
  type Reducer,
} from './layout/reduce.js';
export {
  readLayout,
  writeLayout,
  listLayouts,
  type LayoutManifest,
  type StoredLayout,
  type NewLayout,
} from './atlas/layouts.js';

export {
  assignGrid,
  gridLayout,
  gridMethod,
  GRIDS,
  DEFAULT_GRID,
  rectArrangements,
  chooseShape,
  nearSquareShape,
  parseShape,
  type AssignGridOptions,
  type GridAssignment,
  type GridLayoutOptions,
  type GridLayoutResult,
  type GridMethod,
  type GridShape,
  type RefineParams,
} from './layout/grid.js';
export {
  gridQuality,
  knn2d,
  unitScale,
  type GridQuality,
  type QualityOptions,
  type Points2D,
} from './layout/quality.js';
export { renderGridMosaic, renderGridDeepZoom, renderLayoutPlot, stillCategories } from './render/render.js';
export { renderMosaic, MOSAIC_MAX_PIXELS, type MosaicOptions, type MosaicResult } from './render/mosaic.js';
export {
  renderDeepZoom,
  dziLevels,
  dziLevelSize,
  dziXml,
  type DeepZoomOptions,
  type DeepZoomResult,
} from './render/deepzoom.js';
export { renderPlot, scatterSvg, type PlotOptions, type PlotResult } from './render/plot.js';
export { gridPicture, atlasCellImages, type CellImages, type GridPicture } from './render/cells.js';

// Looks: palettes, colour search, similar stills and movies, clusters, sequences.
export {
  PALETTE_SPACES,
  paletteSpace,
  parseHex,
  deltaE,
  describeLab,
  type PaletteSpace,
  type PaletteColour,
} from './imaging/palette-colour.js';
export {
  stillPalette,
  mergePalettes,
  describePalette,
  computePalettes,
  readPaletteSet,
  stillPaletteOf,
  writeSwatchPng,
  writeBarcodePng,
  type PackedPalette,
  type PaletteOptions,
  type PaletteSet,
  type BarcodeOptions,
  type ComputePalettesResult,
} from './looks/palette.js';
export { emd, type EmdResult } from './looks/emd.js';
export {
  searchColour,
  searchPalettes,
  parseColourQuery,
  paletteDistance,
  type PaletteSearchOptions,
  type PaletteSearchResult,
  type ColourSearchOptions,
  type ColourSearchResult,
} from './looks/search.js';
export {
  similarStills,
  similarMovies,
  embedFile,
  type SimilarStillsOptions,
  type SimilarStillsResult,
  type SimilarMoviesOptions,
  type SimilarMoviesResult,
} from './looks/similar.js';
export { openAnnIndex, DEFAULT_ANN, type AnnIndex, type AnnParams } from './looks/ann.js';
export { StillNeighbours, type StillNeighboursOptions, type NearStill } from './looks/query.js';
export {
  clusterStills,
  medoids,
  summariseLabels,
  type LabelSummary,
  CLUSTER_METHODS,
  type ClusterOptions,
  type ClusterResult,
  type ClusterSummary,
} from './looks/cluster.js';
export { hdbscan, type HdbscanOptions, type HdbscanResult } from './looks/hdbscan.js';
export { kmeans, silhouette, type KMeansOptions, type KMeansResult } from './looks/kmeans.js';
export { purity, nmi, ari } from './looks/metrics.js';
export {
  compareMovies,
  compareSequences,
  dtw,
  rhythm,
  type CompareOptions,
  type CompareResult,
  type DtwResult,
} from './looks/sequence.js';
export { LookVectors, findMovie, NORMALIZATIONS, type Normalization } from './looks/vectors.js';
export {
  startServer,
  createExplorerHandler,
  type ServeOptions,
  type RunningServer,
} from './server/server.js';
export { ExplorerData, MAX_RESULTS } from './server/data.js';
// The explorer's API contract (types only, shared with the web app).
export { API_VERSION } from './api/contract.js';
export type * as Api from './api/contract.js';
