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

/**
 * Rows of a float32 matrix read block by block, so a stage can stream a feature
 * matrix bigger than it wants in memory. `FeatureReader` is one; so is any Matrix
 * wrapped by `matrixSource`.
 */
export interface RowSource {
  readonly rows: number;
  readonly dim: number;
  /** Rows [start, start+count) as one row-major Float32Array (count × dim). */
  readRows(start: number, count: number): Float32Array;
}

/** A Matrix in memory as a RowSource (rows are views, not copies). */
export function matrixSource(m: Matrix): RowSource {
  return {
    rows: m.rows,
    dim: m.cols,
    readRows(start, count) {
      if (start < 0 || count < 0 || start + count > m.rows)
        throw new RangeError(`rows ${start}…${start + count} outside 0…${m.rows}`);
      return m.data.subarray(start * m.cols, (start + count) * m.cols);
    },
  };
}
