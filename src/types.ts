/** Shared value types that cross stage boundaries (flat typed arrays, allocated once). */

/** An image as interleaved 8-bit pixels, row-major. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** A dense row-major float32 matrix. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Progress of a long stage: reported through a callback, rendered by the CLI. */
export interface ProgressEvent {
  stage: string;
  done: number;
  total: number;
  /** Items that failed so far (they count in `done`). */
  failed?: number;
  /** Free-form short note ("downloading model.safetensors"). */
  note?: string;
}

export type ProgressCallback = (event: ProgressEvent) => void;

/** Options every long stage accepts. */
export interface StageOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}
