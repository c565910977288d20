import type { FileHandle } from 'node:fs/promises';

/** Writes all of `data` (fs writes may be partial). */
export async function writeAllTo(fh: FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) {
    const { bytesWritten } = await fh.write(data, off, data.byteLength - off);
    off += bytesWritten;
  }
}

/**
 * Collects text and writes it in pieces of about `flushChars`, so a block of rows
 * becomes a few large writes rather than one string per value or one huge string.
 */
export class TextSink {
  private parts: string[] = [];
  private size = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly flushChars = 4 * 1024 * 1024,
  ) {}

  /** Adds text; writes when enough has gathered. */
  async add(s: string): Promise<void> {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.flushChars) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    await writeAllTo(this.fh, Buffer.from(text, 'utf8'));
  }
}
