/**
 * The parts of the LZ4 frame format (lz4/lz4:doc/lz4_Frame_format.md) the stream
 * decoder needs to find frame and block boundaries without decoding anything:
 *
 *   frame  = magic(4 LE 0x184D2204) FLG BD [content size 8] [dict id 4] HC  block*  end mark(4 zero bytes) [content checksum 4]
 *   block  = size(4 LE, high bit set: stored uncompressed) data [block checksum 4]
 *   skippable frame = magic(4 LE 0x184D2A5X) size(4 LE) data
 */
import type { ByteQueue } from './byte-queue.js';

export const LZ4_MAGIC = 0x184d2204;
const SKIPPABLE_MAGIC = 0x184d2a50;
const UNCOMPRESSED_BIT = 0x80000000;

/** Maximum block size by the BD byte's bits 6-4. */
const BLOCK_MAX_BY_ID: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

export interface FrameHeader {
  /** Bytes from the magic to the HC byte, inclusive. */
  length: number;
  blockMax: number;
  /** Blocks can be decoded one by one (FLG bit 5). */
  independent: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
}

export type HeaderResult = { header: FrameHeader } | { skip: number } | { more: true } | { invalid: string };

/** Reads the frame (or skippable frame) header at the front of `queue`. */
export function readFrameHeader(queue: ByteQueue): HeaderResult {
  const magic = queue.peekUInt32LE(0);
  if (magic === undefined) return { more: true };
  if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
    const size = queue.peekUInt32LE(4);
    return size === undefined ? { more: true } : { skip: 8 + size };
  }
  if (magic !== LZ4_MAGIC) return { invalid: `expected the LZ4 frame magic 04224d18, found ${queue.peek(0, 4)?.toString('hex')}` };
  const descriptor = queue.peek(4, 2);
  if (descriptor === undefined) return { more: true };
  const flg = descriptor[0] ?? 0;
  const bd = descriptor[1] ?? 0;
  if (flg >> 6 !== 1) return { invalid: `unsupported LZ4 frame version ${flg >> 6} (FLG byte 0x${flg.toString(16)})` };
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0)
    return { invalid: `reserved bits set in the LZ4 frame descriptor (FLG 0x${flg.toString(16)}, BD 0x${bd.toString(16)})` };
  const blockMax = BLOCK_MAX_BY_ID[(bd >> 4) & 0x07];
  if (blockMax === undefined) return { invalid: `invalid LZ4 block maximum size id ${(bd >> 4) & 0x07}` };
  const length = 7 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
  if (queue.length < length) return { more: true };
  return {
    header: { length, blockMax, independent: (flg & 0x20) !== 0, blockChecksum: (flg & 0x10) !== 0, contentChecksum: (flg & 0x04) !== 0 },
  };
}

export type BlockResult =
  | { end: number }
  | { blockEnd: number; dataLength: number; stored: boolean }
  | { more: true }
  | { invalid: string };

/** Reads the block (or end mark) that starts `offset` bytes into `queue`; `end`/`blockEnd` are offsets just past it. */
export function readBlock(queue: ByteQueue, offset: number, header: FrameHeader): BlockResult {
  const word = queue.peekUInt32LE(offset);
  if (word === undefined) return { more: true };
  if (word === 0) {
    const end = offset + 4 + (header.contentChecksum ? 4 : 0);
    return queue.length < end ? { more: true } : { end };
  }
  const dataLength = (word & ~UNCOMPRESSED_BIT) >>> 0;
  if (dataLength > header.blockMax)
    return { invalid: `a block of ${dataLength} bytes exceeds the frame's block maximum of ${header.blockMax}` };
  const blockEnd = offset + 4 + dataLength + (header.blockChecksum ? 4 : 0);
  return queue.length < blockEnd ? { more: true } : { blockEnd, dataLength, stored: (word & UNCOMPRESSED_BIT) !== 0 };
}

/**
 * Header of a minimal frame (independent blocks, no checksums, 4 MiB block maximum;
 * HC 0x73 is the frame format's header checksum of FLG 0x60 BD 0x70). Any block of
 * an independent-block frame becomes a frame of its own between this and an end mark.
 */
const SINGLE_BLOCK_HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73]);
const END_MARK = Buffer.alloc(4);

/** Wraps one compressed block (size word + data, no block checksum) as a frame decompressFrame accepts. */
export function singleBlockFrame(sizeWordAndData: Buffer): Buffer {
  return Buffer.concat([SINGLE_BLOCK_HEADER, sizeWordAndData, END_MARK]);
}
