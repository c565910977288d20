/**
 * The optional native JPEG path (native/jpeg_still.c): libjpeg-turbo decodes with DCT-domain
 * shrink, a Catmull-Rom resample brings it to the still's size, all in one call on libuv's
 * thread pool. Built at install time by scripts/build-native.mjs; when it is missing, or
 * `FILMATLAS_NATIVE=0`, every image goes through sharp.
 */
import { createRequire } from 'node:module';
import type { FailOn } from './standardise.js';

interface Binding {
  decodeJpeg(
    input: Uint8Array,
    width: number,
    height: number,
    failOn: number,
  ): Promise<{ data: Buffer; width: number; height: number } | null>;
}

/** Where the build puts the addon, from src/imaging/ and dist/imaging/ alike. */
const ADDON = '../../native/build/Release/filmatlas_native.node';

let binding: Binding | null | undefined;
let loadError: string | undefined;

function load(): Binding | null {
  if (binding === undefined) {
    try {
      binding = createRequire(import.meta.url)(ADDON) as Binding;
    } catch (err) {
      binding = null;
      loadError = err instanceof Error ? err.message.split('\n')[0] : String(err);
    }
  }
  return binding;
}

/** Whether JPEGs take the native path now: built, loadable, and not turned off with FILMATLAS_NATIVE=0. */
export function nativeJpegAvailable(): boolean {
  return process.env.FILMATLAS_NATIVE !== '0' && load() !== null;
}

/** Why the native path is not available (undefined when it is). */
export function nativeJpegStatus(): string | undefined {
  if (process.env.FILMATLAS_NATIVE === '0') return 'turned off (FILMATLAS_NATIVE=0)';
  return load() === null ? `not built (${loadError}); run: node scripts/build-native.mjs` : undefined;
}

const FAIL_ON_CODES: Record<FailOn, number> = { none: 0, truncated: 1, error: 2, warning: 3 };

/**
 * A JPEG decoded and resampled to exactly `width`×`height` packed RGB, or undefined when
 * the native path does not take it (not available, CMYK/YCCK, 12-bit) or libjpeg fails
 * on it; the caller then decodes with sharp, which gives its own verdict.
 */
export async function decodeJpegNative(
  input: Uint8Array,
  width: number,
  height: number,
  failOn: FailOn,
): Promise<{ data: Uint8Array; width: number; height: number } | undefined> {
  if (!nativeJpegAvailable()) return undefined;
  // Bad arguments throw here, as bugs; only libjpeg's verdict on the bytes is handed to sharp.
  const decoding = binding!.decodeJpeg(input, width, height, FAIL_ON_CODES[failOn]);
  try {
    return (await decoding) ?? undefined;
  } catch {
    return undefined;
  }
}
