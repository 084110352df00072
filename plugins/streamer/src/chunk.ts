/** Checking and decoding one stored chunk (format.ts), the same for restore and for inspect. */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { CHUNK_HEADER, type ChunkEntry, headerMismatch, INDEX_FILE, shardName } from './format.js';
import type { Lz4Block } from './native.js';

/** A chunk or a shard does not match the index: the checkpoint is damaged (not the streamer). */
export class DamagedChunk extends Error {}

/**
 * The raw bytes of chunk `c` of image number `image` (named `name`), from `stored`: the
 * header and body read at the chunk's place (`got` bytes of them could be read),
 * decompressed by `lz4` into `into` (at least `c.r` bytes), or into a new buffer.
 * @throws DamagedChunk naming the image, the shard and the offset
 */
export function decodeChunk(
  lz4: Lz4Block,
  stored: Buffer,
  got: number,
  image: number,
  name: string,
  c: ChunkEntry,
  into: Buffer = Buffer.allocUnsafeSlow(c.r),
): Buffer {
  const where = `chunk of ${name} at byte ${c.o} of ${shardName(c.s)}`;
  const bad =
    got < CHUNK_HEADER + c.n
      ? `only ${got} of ${CHUNK_HEADER + c.n} bytes could be read`
      : headerMismatch(stored.subarray(0, CHUNK_HEADER), image, c);
  if (bad) throw new DamagedChunk(`${where}: ${bad}`);
  const body = stored.subarray(CHUNK_HEADER, CHUNK_HEADER + c.n);
  const digest = c.h === undefined ? 'crc32' : 'sha256';
  if (c.h === undefined ? crc32(body) !== c.c : bodyDigest(body) !== c.h) {
    throw new DamagedChunk(`${where} does not match its ${digest} in ${INDEX_FILE}: the shard was changed or corrupted`);
  }
  const raw = into.subarray(0, c.r);
  if (lz4.decompress(body, raw) !== c.r) throw new DamagedChunk(`${where} is not an lz4 block of ${c.r} bytes`);
  return raw;
}

/** What the index (format 2) records of a chunk's stored body. */
export function bodyDigest(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}
