/**
 * A streaming PNG writer for 8-bit RGB images built band by band: scanlines go
 * through one zlib deflate stream into IDAT chunks as they arrive, so a mosaic
 * is never whole in memory (sharp/libvips needs the whole raw image to encode
 * one). Rows use the PNG "Up" filter, which suits photographic cells well and
 * costs one subtraction a byte.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createDeflate, type Deflate } from 'node:zlib';
import { pngChunk } from '../imaging/standardise.js';

export class PngStreamWriter {
  private readonly out: WriteStream;
  private readonly deflate: Deflate;
  private readonly prev: Uint8Array;
  private readonly line: Buffer;
  private rowsWritten = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failed: Error | null = null;
  private readonly done: Promise<void>;

  constructor(
    path: string,
    readonly width: number,
    readonly height: number,
    level = 6,
  ) {
    this.out = createWriteStream(path);
    this.out.on('error', (e) => (this.failed ??= e));
    this.prev = new Uint8Array(width * 3);
    this.line = Buffer.alloc(1 + width * 3);
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // colour type: RGB
    this.out.write(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    this.out.write(pngChunk('IHDR', ihdr));
    this.deflate = createDeflate({ level, memLevel: 9 });
    this.deflate.on('data', (d: Buffer) => {
      this.pending.push(d);
      this.pendingBytes += d.length;
      if (this.pendingBytes >= 1 << 20) this.flushIdat();
    });
    this.deflate.on('error', (e) => (this.failed ??= e));
    this.done = once(this.deflate, 'end').then(() => undefined);
    this.done.catch(() => undefined); // surfaced by close()
  }

  private flushIdat(): void {
    if (this.pendingBytes === 0) return;
    this.out.write(pngChunk('IDAT', Buffer.concat(this.pending, this.pendingBytes)));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Appends `rows` scanlines of packed RGB (rows × width × 3 bytes). */
  async writeRows(rgb: Uint8Array, rows: number): Promise<void> {
    if (this.failed) throw this.failed;
    const stride = this.width * 3;
    if (rgb.length < rows * stride)
      throw new RangeError(`expected ${rows * stride} bytes for ${rows} rows, got ${rgb.length}`);
    if (this.rowsWritten + rows > this.height)
      throw new RangeError(`image has ${this.height} rows; ${this.rowsWritten + rows} written`);
    for (let r = 0; r < rows; r++) {
      const row = rgb.subarray(r * stride, (r + 1) * stride);
      this.line[0] = 2; // Up filter
      for (let i = 0; i < stride; i++) this.line[1 + i] = (row[i] - this.prev[i]) & 0xff;
      this.prev.set(row);
      if (!this.deflate.write(Buffer.from(this.line))) await once(this.deflate, 'drain');
    }
    this.rowsWritten += rows;
  }

  async close(): Promise<void> {
    if (this.rowsWritten !== this.height)
      throw new RangeError(`image has ${this.height} rows but ${this.rowsWritten} were written`);
    this.deflate.end();
    await this.done;
    if (this.failed) throw this.failed;
    this.flushIdat();
    this.out.write(pngChunk('IEND', new Uint8Array(0)));
    this.out.end();
    await once(this.out, 'finish');
    if (this.failed) throw this.failed;
  }

  /** Stops writing (after an error); the partial file is left for the caller to remove. */
  destroy(): void {
    this.deflate.destroy();
    this.out.destroy();
  }
}
