/**
 * A small safetensors reader and writer (https://github.com/huggingface/safetensors):
 * an 8-byte little-endian header length N, N bytes of JSON
 * (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`,
 * offsets relative to the byte after the header), then the tensor bytes, little-endian,
 * row-major.
 *
 * Reading parses and checks only the header, so a caller can validate names and shapes
 * of a 528 MB file before touching its data, and then read just the tensors it needs.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { writeAtomicViaSync } from '../../atlas/files.js';
import { AtlasError } from '../../errors.js';

/** Element types we can read (all converted to float32 on read). */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64';

/** Bytes per element of every dtype the format defines (so that any valid header parses). */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** A header larger than this is not a real file (the format's own reference reader caps it at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensor {
  name: string;
  /** The dtype as written in the header (any the format defines). */
  dtype: string;
  shape: number[];
  /** Elements (product of the shape). */
  elements: number;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  byteLength: number;
}

export interface SafetensorsFile {
  path: string;
  /** File size in bytes. */
  size: number;
  /** Absolute offset of the data section (8 + header length). */
  dataStart: number;
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

function corrupt(path: string, why: string, cause?: unknown): AtlasError {
  return new AtlasError('MODEL', `${path} is not a valid safetensors file: ${why}`, {
    value: path,
    suggestion:
      'the file is damaged or incomplete: download it again (`filmatlas models pull vgg16`) or pass another --weights file',
    cause,
  });
}

function readExactly(fd: number, buf: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < buf.byteLength) {
    const n = readSync(fd, buf, done, buf.byteLength - done, position + done);
    if (n === 0)
      throw corrupt(
        path,
        `the file ends at byte ${position + done}, before the ${buf.byteLength} bytes expected at ${position}`,
      );
    done += n;
  }
}

/**
 * Reads and validates the header of a safetensors file (the data is not read):
 * header length sane and inside the file, JSON well-formed, every tensor's dtype known,
 * shape made of non-negative integers, byte range inside the file, of the size its shape
 * and dtype imply, and not overlapping another tensor's. Anything else throws
 * `AtlasError('MODEL')` naming the file.
 */
export function readSafetensorsHeader(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AtlasError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'IO',
      `cannot open the weights file ${path}: ${(err as Error).message}`,
      {
        value: path,
        cause: err,
      },
    );
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw corrupt(path, `it is ${size} bytes long, shorter than the 8-byte header length`);
    const lenBuf = new Uint8Array(8);
    readExactly(fd, lenBuf, 0, path);
    const headerLen64 = new DataView(lenBuf.buffer).getBigUint64(0, true);
    if (headerLen64 < 2n || headerLen64 > BigInt(MAX_HEADER_BYTES)) {
      throw corrupt(
        path,
        `the header length field says ${headerLen64} bytes (expected 2 to ${MAX_HEADER_BYTES})`,
      );
    }
    const headerLen = Number(headerLen64);
    if (8 + headerLen > size)
      throw corrupt(
        path,
        `the header length field says ${headerLen} bytes but the file has only ${size - 8} after it (truncated?)`,
      );
    const headerBuf = new Uint8Array(headerLen);
    readExactly(fd, headerBuf, 8, path);
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBuf));
    } catch (err) {
      throw corrupt(path, `its header is not valid JSON (${(err as Error).message})`, err);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header))
      throw corrupt(path, 'its header is not a JSON object');
    const dataStart = 8 + headerLen;
    const dataBytes = size - dataStart;
    const tensors = new Map<string, SafetensorsTensor>();
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (raw !== null && typeof raw === 'object' && !Array.isArray(raw))
          metadata = raw as Record<string, string>;
        continue;
      }
      tensors.set(name, parseEntry(path, name, raw, dataStart, dataBytes));
    }
    // The format requires tensors not to overlap; overlapping ranges mean a forged or damaged header.
    const sorted = [...tensors.values()].filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1];
      if (sorted[i].offset < prev.offset + prev.byteLength) {
        throw corrupt(path, `tensors ${prev.name} and ${sorted[i].name} overlap`);
      }
    }
    return { path, size, dataStart, tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

function parseEntry(
  path: string,
  name: string,
  raw: unknown,
  dataStart: number,
  dataBytes: number,
): SafetensorsTensor {
  if (raw === null || typeof raw !== 'object')
    throw corrupt(path, `the entry of tensor ${name} is not an object`);
  const {
    dtype,
    shape,
    data_offsets: offsets,
  } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES))
    throw corrupt(path, `tensor ${name} has an unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw corrupt(path, `tensor ${name} has an invalid shape ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((d) => Number.isSafeInteger(d) && d >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw corrupt(path, `tensor ${name} has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const byteLength = offsets[1] - offsets[0];
  if (byteLength !== elements * DTYPE_BYTES[dtype]) {
    throw corrupt(
      path,
      `tensor ${name} (${dtype} [${shape.join(',')}]) should take ${elements * DTYPE_BYTES[dtype]} bytes but its data_offsets span ${byteLength}`,
    );
  }
  if (offsets[1] > dataBytes) {
    throw corrupt(
      path,
      `tensor ${name} ends at data byte ${offsets[1]} but the file holds only ${dataBytes} bytes of data (truncated?)`,
    );
  }
  return { name, dtype, shape: shape as number[], elements, offset: dataStart + offsets[0], byteLength };
}

/** Converts IEEE half-precision bits to a float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

let halfTable: Float32Array | undefined;
function halfLookup(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  return halfTable;
}

/** Bytes read per chunk when converting, so that a 400 MB F16 tensor never needs a second 400 MB buffer. */
const CHUNK_BYTES = 1 << 24;

/**
 * Reads one tensor as float32 (F32 as is; F16, BF16 and F64 converted), reading only its
 * bytes. `out` (default: a new array) must hold at least `tensor.elements` floats.
 */
export function readTensorF32(file: SafetensorsFile, name: string, out?: Float32Array): Float32Array {
  const t = file.tensors.get(name);
  if (!t) throw new AtlasError('MODEL', `${file.path} has no tensor ${name}`, { value: file.path });
  if (!(FLOAT_DTYPES as readonly string[]).includes(t.dtype)) {
    throw new AtlasError(
      'MODEL',
      `${name}: expected a float tensor (${FLOAT_DTYPES.join(', ')}), got ${t.dtype}`,
      { value: file.path },
    );
  }
  const dst = out ?? new Float32Array(t.elements);
  if (dst.length < t.elements)
    throw new RangeError(`output holds ${dst.length} floats but ${name} has ${t.elements}`);
  const fd = openSync(file.path, 'r');
  try {
    if (t.dtype === 'F32') {
      readExactly(fd, new Uint8Array(dst.buffer, dst.byteOffset, t.byteLength), t.offset, file.path);
      return dst;
    }
    const width = DTYPE_BYTES[t.dtype];
    const perChunk = Math.floor(CHUNK_BYTES / width);
    const chunk = new Uint8Array(Math.min(t.byteLength, perChunk * width));
    const view = new DataView(chunk.buffer);
    const table = t.dtype === 'F16' ? halfLookup() : undefined;
    const u32 = new Uint32Array(1);
    const f32 = new Float32Array(u32.buffer);
    for (let start = 0; start < t.elements; start += perChunk) {
      const n = Math.min(perChunk, t.elements - start);
      const bytes = chunk.subarray(0, n * width);
      readExactly(fd, bytes, t.offset + start * width, file.path);
      if (t.dtype === 'F64') {
        for (let i = 0; i < n; i++) dst[start + i] = view.getFloat64(i * 8, true);
      } else if (table) {
        for (let i = 0; i < n; i++) dst[start + i] = table[view.getUint16(i * 2, true)];
      } else {
        // bfloat16 is the top half of a float32.
        for (let i = 0; i < n; i++) {
          u32[0] = view.getUint16(i * 2, true) << 16;
          dst[start + i] = f32[0];
        }
      }
    }
    return dst;
  } finally {
    closeSync(fd);
  }
}

/** One tensor to write: float32 data given whole, or produced chunk by chunk. */
export interface SafetensorsEntry {
  name: string;
  shape: readonly number[];
  /**
   * The data: a Float32Array of the shape's size, or a function that fills `out` with
   * elements `[start, start + out.length)` (called in order, in chunks), so that
   * generated tensors never exist whole in memory.
   */
  data: Float32Array | ((out: Float32Array, start: number) => void);
}

/** Elements produced per chunk by a generated entry (16 MB). */
const WRITE_CHUNK = 1 << 22;

/**
 * Writes a float32 safetensors file: header padded with spaces to a multiple of 8 (as
 * the reference writer does), tensors in the order given. Written to a temporary file
 * and renamed, so a crash never leaves a half-written file under `path`.
 */
export function writeSafetensors(
  path: string,
  entries: readonly SafetensorsEntry[],
  metadata?: Record<string, string>,
): void {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const e of entries) {
    const elements = e.shape.reduce((a, b) => a * b, 1);
    if (e.data instanceof Float32Array && e.data.length !== elements) {
      throw new RangeError(
        `${e.name}: shape [${e.shape.join(',')}] has ${elements} elements but the data has ${e.data.length}`,
      );
    }
    header[e.name] = { dtype: 'F32', shape: e.shape, data_offsets: [offset, offset + elements * 4] };
    offset += elements * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const lenBytes = Buffer.alloc(8);
  lenBytes.writeBigUInt64LE(BigInt(headerBytes.length));
  writeAtomicViaSync(path, (tmp) => {
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, lenBytes);
      writeAll(fd, headerBytes);
      let scratch: Float32Array | undefined;
      for (const e of entries) {
        if (e.data instanceof Float32Array) {
          writeAll(fd, new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength));
          continue;
        }
        const elements = e.shape.reduce((a, b) => a * b, 1);
        scratch ??= new Float32Array(WRITE_CHUNK);
        for (let start = 0; start < elements; start += WRITE_CHUNK) {
          const part = scratch.subarray(0, Math.min(WRITE_CHUNK, elements - start));
          e.data(part, start);
          writeAll(fd, new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
        }
      }
    } finally {
      closeSync(fd);
    }
  });
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
}
