/**
 * A small zip reader and writer for gallery downloads (film-grab's "download
 * gallery" zips): stored and deflated entries, CRC-checked. No zip64, no encryption —
 * a gallery zip never needs them, and such entries are reported rather than guessed at.
 * The writer makes the test site's zips.
 */
import zlib from 'node:zlib';
import { AtlasError } from '../../errors.js';
import { crc32 } from '../../imaging/standardise.js';

export interface ZipEntry {
  name: string;
  data: Buffer;
}

export interface ZipReadResult {
  entries: ZipEntry[];
  /** Entries that could not be read, with why (bad CRC, unsupported method, ...). */
  errors: { name: string; error: string }[];
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function bad(message: string): AtlasError {
  return new AtlasError('BAD_IMAGE', `not a readable zip: ${message}`);
}

/**
 * Reads every file entry of a zip held in memory. Throws `BAD_IMAGE` when the archive
 * itself is unreadable (truncated, not a zip); damaged entries land in `errors`.
 * `maxEntryBytes` (default 256 MiB) bounds each inflated entry against zip bombs.
 */
export function readZip(buf: Buffer, maxEntryBytes = 256 * 1024 * 1024): ZipReadResult {
  // The end-of-central-directory record sits in the last 22 + up to 65,535 comment bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record (truncated download?)');
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || count === 0xffff) throw bad('zip64 archives are not supported');
  if (cdOffset + cdSize > eocd) throw bad('central directory lies outside the file');
  const entries: ZipEntry[] = [];
  const errors: { name: string; error: string }[] = [];
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL)
      throw bad(`central directory entry ${n + 1} is damaged`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    // Bit 11: the name is UTF-8; otherwise CP437, which matches UTF-8 for the ASCII names galleries use.
    const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    try {
      if (flags & 1) throw new Error('encrypted');
      if (size === 0xffffffff || compressed === 0xffffffff) throw new Error('zip64 entry');
      if (size > maxEntryBytes)
        throw new Error(`entry is ${size} bytes, more than the ${maxEntryBytes} allowed`);
      if (localOffset + 30 > buf.length || buf.readUInt32LE(localOffset) !== LOCAL)
        throw new Error('local header missing');
      const start =
        localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
      if (start + compressed > buf.length) throw new Error('entry data truncated');
      const raw = buf.subarray(start, start + compressed);
      let data: Buffer;
      if (method === 0) data = Buffer.from(raw);
      else if (method === 8) data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
      else throw new Error(`compression method ${method} is not supported`);
      if (data.length !== size) throw new Error(`inflated to ${data.length} bytes, expected ${size}`);
      if (crc32(data) >>> 0 !== crc) throw new Error('CRC mismatch (damaged entry)');
      entries.push({ name, data });
    } catch (err) {
      errors.push({ name, error: (err as Error).message });
    }
  }
  return { entries, errors };
}

/** Writes entries as a zip (deflated where that is smaller, else stored). */
export function writeZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const deflated = zlib.deflateRawSync(e.data);
    const stored = deflated.length >= e.data.length;
    const body = stored ? e.data : deflated;
    const crc = crc32(e.data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(stored ? 0 : 8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(stored ? 0 : 8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
