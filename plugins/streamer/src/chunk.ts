/** Checking and decoding one stored chunk (format.ts), the same for restore and for inspect. */
import { crc32 } from 'node:zlib';
import { uncompressSync } from 'lz4-napi';
import { CHUNK_HEADER, type ChunkEntry, headerMismatch, INDEX_FILE, shardName } from './format.js';

/** A chunk or a shard does not match the index: the checkpoint is damaged (not the streamer). */
export class DamagedChunk extends Error {}

/**
 * The raw bytes of chunk `c` of image number `image` (named `name`), from `stored`: the
 * header and body read at the chunk's place (`got` bytes of them could be read).
 * @throws DamagedChunk naming the image, the shard and the offset
 */
export function decodeChunk(stored: Buffer, got: number, image: number, name: string, c: ChunkEntry): Buffer {
  const where = `chunk of ${name} at byte ${c.o} of ${shardName(c.s)}`;
  const bad =
    got < CHUNK_HEADER + c.n
      ? `only ${got} of ${CHUNK_HEADER + c.n} bytes could be read`
      : headerMismatch(stored.subarray(0, CHUNK_HEADER), image, c);
  if (bad) throw new DamagedChunk(`${where}: ${bad}`);
  const body = stored.subarray(CHUNK_HEADER, CHUNK_HEADER + c.n);
  if (crc32(body) !== c.c) {
    throw new DamagedChunk(`${where} does not match its crc32 in ${INDEX_FILE}: the shard was changed or corrupted`);
  }
  const raw = uncompressSync(body);
  if (raw.length !== c.r) throw new DamagedChunk(`${where} decompressed to ${raw.length} bytes, expected ${c.r}`);
  return raw;
}
