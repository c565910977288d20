import type { RawImage } from '../types.js';

/**
 * An embedder maps standardised stills (224×126 RGB) to fixed-length float32
 * vectors. It says what it is (id, dimension, preprocessing, weights) so that a
 * feature matrix can record exactly how it was made.
 */
export interface Embedder {
  readonly id: string;
  readonly dim: number;
  /** How pixels were prepared ("imagenet", "seed", "none"). Recorded in the features manifest. */
  readonly preprocess: string;
  /** sha256 of the weights file, for models that have weights. */
  readonly weightsSha256?: string;
  /** Extra facts recorded in the manifest (layer, precision, source file...). */
  readonly details?: Record<string, string | number>;
  /**
   * Embeds a batch of stills into `out` (row i at `out[i * dim]`). Stills are
   * 224×126 with 3 channels.
   */
  embed(stills: readonly RawImage[], out: Float32Array): Promise<void>;
  close(): Promise<void>;
}

export interface EmbedderOptions {
  /** Weights file (safetensors or ONNX) for models that need weights. */
  weights?: string;
  /** Pixel preprocessing for CNNs: 'imagenet' (default) or 'seed'. */
  preprocess?: string;
  /** Output layer for ONNX models. */
  layer?: string;
  /** Intra-op threads for ONNX Runtime. Default: all cores. */
  threads?: number;
  /** Arithmetic of CNN models: 'fp32' (default, the reference) or 'int8' (quantised convolutions, faster). */
  precision?: string;
}

export interface EmbedderEntry {
  description: string;
  /** Vector length, when known before loading. */
  dim: number;
  /** Batch size that suits it. */
  defaultBatch: number;
  needsWeights: boolean;
  create(options: EmbedderOptions): Promise<Embedder>;
}
