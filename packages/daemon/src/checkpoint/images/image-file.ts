/**
 * CRIU's image file layout (criu/include/magic.h, criu/protobuf.c): a u32 IMG_COMMON_MAGIC
 * (IMG_SERVICE_MAGIC for stats and caches), the image's own magic (inventory.img has only
 * its own), then entries, each a u32 little-endian length and that many bytes of one
 * protobuf message.
 */
import { CedanaError } from '@cedana/core';

export const IMG_COMMON_MAGIC = 0x54564319;
export const IMG_SERVICE_MAGIC = 0x55105940;

/** The magic of each image kind inspect reads. */
export const MAGIC = {
  inventory: 0x58313116,
  pstree: 0x50273030,
  fdinfo: 0x56213732,
  pagemap: 0x56084025,
  core: 0x55053847,
  ids: 0x54432030,
  mm: 0x57492820,
  files: 0x56303138,
} as const;

export type ImageKind = keyof typeof MAGIC;

/** A ts-proto message decoder. */
export interface Decoder<T> {
  decode(input: Uint8Array): T;
}

/** Every entry of the image `name` (named in errors), decoded with `decoder`. */
export function readEntries<T>(name: string, bytes: Uint8Array, kind: ImageKind, decoder: Decoder<T>): T[] {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = readMagic(name, view, kind);
  const entries: T[] = [];
  while (at < view.length) {
    if (view.length - at < 4) throw invalid(name, `${view.length - at} stray bytes at offset ${at}, too few for an entry's length`);
    const length = view.readUInt32LE(at);
    const start = at + 4;
    if (length > view.length - start) {
      throw invalid(
        name,
        `entry ${entries.length + 1} at offset ${at} claims ${length} bytes, only ${view.length - start} follow (truncated?)`,
      );
    }
    try {
      entries.push(decoder.decode(view.subarray(start, start + length)));
    } catch (err) {
      throw invalid(name, `entry ${entries.length + 1} at offset ${at} is not a valid ${kind} message: ${(err as Error).message}`);
    }
    at = start + length;
  }
  return entries;
}

/** The one entry of an image that holds exactly one (mm, ids, core). */
export function readSingle<T>(name: string, bytes: Uint8Array, kind: ImageKind, decoder: Decoder<T>): T {
  const entries = readEntries(name, bytes, kind, decoder);
  const [first] = entries;
  if (first === undefined || entries.length !== 1) throw invalid(name, `expected one entry, found ${entries.length}`);
  return first;
}

/** Checks the magic at the start of the image; returns where the entries begin. */
function readMagic(name: string, view: Buffer, kind: ImageKind): number {
  const want = MAGIC[kind];
  if (kind === 'inventory') {
    if (view.length >= 4 && view.readUInt32LE(0) === want) return 4;
  } else if (view.length >= 8 && view.readUInt32LE(0) === IMG_COMMON_MAGIC && view.readUInt32LE(4) === want) {
    return 8;
  }
  const found = view.subarray(0, 8).toString('hex') || 'an empty file';
  return fail(name, `expected a CRIU ${kind} image (magic ${hex(want)}), found ${found}`);
}

function fail(name: string, what: string): never {
  throw invalid(name, what);
}

/** The error for a damaged image: the file is named, and what was wrong with it. */
export function invalid(name: string, what: string): CedanaError {
  return new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `the CRIU image ${name} is damaged: ${what}`);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
