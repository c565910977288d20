/**
 * Standardised stills: the one size every stage sees (224×126 RGB, 16:9) and the one
 * reader of their pixels. A standardised still is a PNG in the atlas's blob store,
 * keyed by the sha256 its catalogue row records (`stills/ab/<sha256>.png` on local
 * disk). The embedders read them as stored; mosaics, deep zoom and sequence strips
 * read them scaled to a cell.
 *
 * The reader takes catalogue rows (`{ id, stdSha256 }`) from its caller rather than
 * asking the catalogue itself, so it does not care how the catalogue is kept.
 */
import sharp from 'sharp';
import { AtlasError } from '../errors.js';
import type { BlobStore } from '../store/blobs.js';
import type { RawImage } from '../types.js';

/** Width and height of every standardised still (16:9; 224 is what VGG-16 was trained at). */
export const STILL_WIDTH = 224,
  STILL_HEIGHT = 126;

/** What the reader needs of a catalogue row: the still's id (for messages) and its standardised image's sha256. */
export interface StillKey {
  id: number;
  /** Null while the still is not standardised. */
  stdSha256: string | null;
}

/** Where standardised stills are read from: an open atlas (or anything with its blob store). */
export interface StillSource {
  readonly store: BlobStore;
}

/** The standardised PNG of a still; a still that has none is a STATE error. */
async function stillPng(atlas: StillSource, still: StillKey): Promise<Buffer> {
  if (!still.stdSha256) throw new AtlasError('STATE', `still ${still.id} is not standardised`);
  return atlas.store.get('stills', still.stdSha256, 'png');
}

/**
 * A standardised still's pixels as stored: 224×126 RGB. A still of another size (a
 * damaged or foreign file) is a STATE error that points to `standardise --redo`.
 */
export async function readStill(atlas: StillSource, still: StillKey): Promise<RawImage> {
  const { data, info } = await sharp(await stillPng(atlas, still))
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== STILL_WIDTH || info.height !== STILL_HEIGHT || info.channels !== 3) {
    throw new AtlasError(
      'STATE',
      `standardised still ${still.id} is ${info.width}×${info.height}×${info.channels}, expected ${STILL_WIDTH}×${STILL_HEIGHT}×3`,
      { suggestion: 'run `filmatlas standardise --redo`' },
    );
  }
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: 3,
  };
}

/**
 * Decodes an image (any format sharp reads) to RGB at exactly width × height, stretched
 * (a 16:9 still fills a 16:9 cell), with a Lanczos-3 kernel.
 */
export async function decodeRgb(
  image: Buffer | Uint8Array,
  width: number,
  height: number,
): Promise<Uint8Array> {
  const { data, info } = await sharp(image)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== width || info.height !== height) {
    throw new Error(`decoded ${info.width}×${info.height}×${info.channels}, expected ${width}×${height}×3`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** A standardised still's pixels scaled to width × height RGB (see `decodeRgb`). */
export async function readStillScaled(
  atlas: StillSource,
  still: StillKey,
  width: number,
  height: number,
): Promise<Uint8Array> {
  return decodeRgb(await stillPng(atlas, still), width, height);
}

/** Scaled pictures of stills by id, for pictures made of many stills (mosaics, deep zoom, strips). */
export interface StillPictures {
  /** RGB (width × height × 3) of a still, or null when it has no standardised image or that image cannot be decoded. */
  get(stillId: number, width: number, height: number): Promise<Uint8Array | null>;
  /** How many `get`s returned null so far. */
  readonly missing: number;
}

/**
 * Scaled pictures of the given stills (catalogue rows, usually the ready ones); a still
 * not among them, not standardised, or undecodable comes back as null and is counted.
 */
export function stillPictures(atlas: StillSource, stills: Iterable<StillKey>): StillPictures {
  const byId = new Map<number, StillKey>();
  for (const s of stills) if (s.stdSha256) byId.set(s.id, s);
  let missing = 0;
  return {
    get missing() {
      return missing;
    },
    async get(stillId, width, height) {
      const still = byId.get(stillId);
      if (still) {
        try {
          return await readStillScaled(atlas, still, width, height);
        } catch {
          // drawn as missing
        }
      }
      missing++;
      return null;
    },
  };
}
