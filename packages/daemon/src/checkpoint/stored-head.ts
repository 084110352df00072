/**
 * The head of an archive (its first tar entry, checkpoint.json) stored uncompressed in
 * each codec's own framing, so that its encoded length depends only on its length.
 * packCheckpoint reserves that many bytes at the start of the file, streams the
 * compressed rest behind them while it hashes the images, and writes the head last,
 * once the hashes are known. Readers see an ordinary archive with checkpoint.json first:
 *
 *   lz4   one frame of stored blocks (content checksum), then the rest's frames
 *   gzip  one member of stored deflate blocks, then the rest's member (RFC 1952: members concatenate)
 *   zlib  header and non-final stored blocks, then the rest's deflate data, whose
 *         adler32 trailer is recomputed to cover the head too (see ZlibContinuation)
 *   zstd  one frame of raw blocks (content checksum), then the rest's frames (RFC 8878: frames concatenate)
 */
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { LZ4_MAGIC } from './lz4-frame.js';
import { xxh32 } from './xxh32.js';
import { xxh64 } from './xxh64.js';
import { ZSTD_BLOCK_MAX, ZSTD_MAGIC } from './zstd-frame.js';

export interface StoredHead {
  /** Encoded length of a head of `plainLength` bytes. */
  length(plainLength: number): number;
  encode(plain: Buffer): Buffer;
}

export const TAR_HEAD: StoredHead = { length: (n) => n, encode: (plain) => plain };

/** FLG: version 01, independent blocks, content checksum. BD: 4 MiB blocks. */
const LZ4_FLG = 0x64;
const LZ4_BD = 0x70;
const LZ4_BLOCK = 4 << 20;
const LZ4_STORED_BIT = 0x80000000;

export const LZ4_HEAD: StoredHead = {
  // magic, FLG, BD, HC; a size word per block; end mark; content checksum
  length: (n) => (n === 0 ? 0 : 7 + 4 * pieces(n, LZ4_BLOCK) + n + 8),
  encode(plain) {
    if (plain.length === 0) return plain;
    const header = Buffer.from([0, 0, 0, 0, LZ4_FLG, LZ4_BD, (xxh32(Buffer.from([LZ4_FLG, LZ4_BD])) >>> 8) & 0xff]);
    header.writeUInt32LE(LZ4_MAGIC, 0);
    const parts: Buffer[] = [header];
    for (const piece of cut(plain, LZ4_BLOCK)) parts.push(u32le((piece.length | LZ4_STORED_BIT) >>> 0), piece);
    parts.push(u32le(0), u32le(xxh32(plain)));
    return Buffer.concat(parts);
  },
};

/**
 * FHD: no content size, not single-segment, content checksum, no dictionary; then a
 * window descriptor of 128 KiB (exponent 7, mantissa 0), the largest raw block.
 */
const ZSTD_FHD = 0x04;
const ZSTD_WINDOW = 0x38;
const ZSTD_RAW_BLOCK = ZSTD_BLOCK_MAX;

export const ZSTD_HEAD: StoredHead = {
  // magic, FHD, window descriptor; a 3-byte header per raw block; content checksum
  length: (n) => (n === 0 ? 0 : 6 + 3 * pieces(n, ZSTD_RAW_BLOCK) + n + 4),
  encode(plain) {
    if (plain.length === 0) return plain;
    const header = Buffer.from([0, 0, 0, 0, ZSTD_FHD, ZSTD_WINDOW]);
    header.writeUInt32LE(ZSTD_MAGIC, 0);
    const parts: Buffer[] = [header];
    const blocks = cut(plain, ZSTD_RAW_BLOCK);
    blocks.forEach((piece, i) => {
      const block = Buffer.alloc(3);
      // Block_Size << 3 | Block_Type raw (0) << 1 | Last_Block
      block.writeUIntLE(piece.length * 8 + (i === blocks.length - 1 ? 1 : 0), 0, 3);
      parts.push(block, piece);
    });
    parts.push(u32le(Number(xxh64(plain) & 0xffffffffn)));
    return Buffer.concat(parts);
  },
};

/** Deflate stored blocks hold at most 65535 bytes each. */
const STORED_BLOCK = 0xffff;

/** Stored deflate blocks of `plain`, the last one final when `final`. */
function storedBlocks(plain: Buffer, final: boolean): Buffer[] {
  const parts: Buffer[] = [];
  const blocks = cut(plain, STORED_BLOCK);
  blocks.forEach((piece, i) => {
    const head = Buffer.alloc(5);
    head[0] = final && i === blocks.length - 1 ? 1 : 0; // BFINAL, BTYPE 00, then padding to the byte
    head.writeUInt16LE(piece.length, 1);
    head.writeUInt16LE(~piece.length & 0xffff, 3);
    parts.push(head, piece);
  });
  return parts;
}

/** ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unix. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

export const GZIP_HEAD: StoredHead = {
  length: (n) => (n === 0 ? 0 : GZIP_HEADER.length + 5 * pieces(n, STORED_BLOCK) + n + 8),
  encode(plain) {
    if (plain.length === 0) return plain;
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc32(plain), 0);
    trailer.writeUInt32LE(plain.length >>> 0, 4);
    return Buffer.concat([GZIP_HEADER, ...storedBlocks(plain, true), trailer]);
  },
};

/** CMF: deflate, 32 KiB window; FLG: fastest level, check bits. */
const ZLIB_HEADER = Buffer.from([0x78, 0x01]);

export const ZLIB_HEAD: StoredHead = {
  length: (n) => ZLIB_HEADER.length + 5 * pieces(n, STORED_BLOCK) + n,
  encode: (plain) => Buffer.concat([ZLIB_HEADER, ...storedBlocks(plain, false)]),
};

/**
 * Follows a zlib encoder (RFC 1950) of the rest: drops its 2-byte header (ZLIB_HEAD
 * wrote one) and replaces its adler32 trailer with that of head + rest. `head()` is
 * called once the rest has ended; `restBytes()` gives the rest's uncompressed length.
 */
export class ZlibContinuation extends Transform {
  readonly #head: () => Buffer;
  readonly #restBytes: () => number;
  #skip = ZLIB_HEADER.length;
  /** The last 4 bytes seen: the trailer, once the stream ends. */
  #held = Buffer.alloc(0);

  constructor(head: () => Buffer, restBytes: () => number) {
    super();
    this.#head = head;
    this.#restBytes = restBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const skipped = Math.min(this.#skip, chunk.length);
    this.#skip -= skipped;
    const data = this.#held.length === 0 ? chunk.subarray(skipped) : Buffer.concat([this.#held, chunk.subarray(skipped)]);
    const keep = Math.min(4, data.length);
    this.#held = Buffer.from(data.subarray(data.length - keep));
    callback(null, data.length > keep ? data.subarray(0, data.length - keep) : undefined);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#held.length !== 4) {
      callback(new Error('the zlib encoder ended without its adler32 trailer'));
      return;
    }
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32BE(adler32Combine(adler32(this.#head()), this.#held.readUInt32BE(0), this.#restBytes()), 0);
    callback(null, trailer);
  }
}

const ADLER_BASE = 65521;

export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 bytes at most between reductions keep b below 2^32 (zlib's NMAX).
  for (let at = 0; at < data.length; ) {
    const end = Math.min(data.length, at + 5552);
    for (; at < end; at++) {
      a += data[at] ?? 0;
      b += a;
    }
    a %= ADLER_BASE;
    b %= ADLER_BASE;
  }
  return b * 65536 + a;
}

/** adler32 of A + B from adler32(A), adler32(B) and B's length (zlib's adler32_combine). */
export function adler32Combine(adler1: number, adler2: number, length2: number): number {
  const rem = length2 % ADLER_BASE;
  let sum1 = adler1 & 0xffff;
  let sum2 = (rem * sum1) % ADLER_BASE;
  sum1 += (adler2 & 0xffff) + ADLER_BASE - 1;
  sum2 += Math.floor(adler1 / 65536) + Math.floor(adler2 / 65536) + ADLER_BASE - rem;
  if (sum1 >= ADLER_BASE) sum1 -= ADLER_BASE;
  if (sum1 >= ADLER_BASE) sum1 -= ADLER_BASE;
  if (sum2 >= 2 * ADLER_BASE) sum2 -= 2 * ADLER_BASE;
  if (sum2 >= ADLER_BASE) sum2 -= ADLER_BASE;
  return sum2 * 65536 + sum1;
}

function pieces(n: number, size: number): number {
  return Math.ceil(n / size);
}

function cut(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}
