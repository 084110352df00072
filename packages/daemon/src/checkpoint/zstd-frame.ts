/**
 * The parts of the zstd frame format (RFC 8878) the stream decoder needs to find frame
 * boundaries without decoding anything:
 *
 *   frame  = magic(4 LE 0xFD2FB528) FHD [window descriptor 1] [dict id 0-4] [content size 0-8]  block+  [checksum 4]
 *   block  = header(3 LE: bit 0 last, bits 1-2 type raw|RLE|compressed, bits 3-23 size) content
 *            (content: size bytes, or 1 byte for RLE)
 *   skippable frame = magic(4 LE 0x184D2A5X) size(4 LE) data
 */
import type { ByteQueue } from './byte-queue.js';

export const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** No block, whatever its type, regenerates or holds more than this (Block_Maximum_Size). */
export const ZSTD_BLOCK_MAX = 128 << 10;

export type ZstdHeaderResult = { length: number; checksum: boolean } | { skip: number } | { more: true } | { invalid: string };

/** Reads the frame (or skippable frame) header at the front of `queue`. */
export function readZstdFrameHeader(queue: ByteQueue): ZstdHeaderResult {
  const magic = queue.peekUInt32LE(0);
  if (magic === undefined) return { more: true };
  if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
    const size = queue.peekUInt32LE(4);
    return size === undefined ? { more: true } : { skip: 8 + size };
  }
  if (magic !== ZSTD_MAGIC) return { invalid: `expected the zstd frame magic 28b52ffd, found ${queue.peek(0, 4)?.toString('hex')}` };
  const fhd = queue.peek(4, 1)?.[0];
  if (fhd === undefined) return { more: true };
  if ((fhd & 0x08) !== 0) return { invalid: `reserved bit set in the zstd frame header descriptor 0x${fhd.toString(16)}` };
  const singleSegment = (fhd & 0x20) !== 0;
  const fcsFlag = fhd >> 6;
  const contentSizeBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  const dictBytes = [0, 1, 2, 4][fhd & 0x03] ?? 0;
  const length = 5 + (singleSegment ? 0 : 1) + dictBytes + contentSizeBytes;
  return queue.length < length ? { more: true } : { length, checksum: (fhd & 0x04) !== 0 };
}

export type ZstdBlockResult = { blockEnd: number; last: boolean } | { more: true } | { invalid: string };

/** Reads the header of the block that starts `offset` bytes into `queue`; `blockEnd` is the offset just past the block. */
export function readZstdBlock(queue: ByteQueue, offset: number): ZstdBlockResult {
  const header = queue.peek(offset, 3);
  if (header === undefined) return { more: true };
  const word = header.readUIntLE(0, 3);
  const type = (word >> 1) & 0x03;
  const size = word >>> 3;
  if (type === 3) return { invalid: 'a block of the reserved type 3' };
  if (size > ZSTD_BLOCK_MAX) return { invalid: `a block of ${size} bytes exceeds zstd's block maximum of ${ZSTD_BLOCK_MAX}` };
  return { blockEnd: offset + 3 + (type === 1 ? 1 : size), last: (word & 1) === 1 };
}
