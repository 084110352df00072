/**
 * The size and sha256 of one file, read in 4 MiB pieces with the next read already
 * running while a piece is hashed: the copy out of the page cache (a libuv thread)
 * overlaps the hashing (this thread). Runs in the hashing workers (hash-pool.ts).
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

export interface FileDigest {
  size: number;
  sha256: string;
  /**
   * Set when the file's reader checks it piece by piece as it reads it, against digests
   * in this other file of the checkpoint (the streamer's shards: img-index.json, whose
   * sha256 is checked up front). A restore from the folder then checks only its size
   * before starting, not its sha256; copies and downloads still check the sha256.
   */
  chunkDigests?: string;
}

const PIECE_BYTES = 4 << 20;

export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  const file = await open(path, 'r');
  try {
    const buffers = [Buffer.allocUnsafe(PIECE_BYTES), Buffer.allocUnsafe(PIECE_BYTES)];
    let size = 0;
    let next = file.read(buffers[0] as Buffer, 0, PIECE_BYTES, 0);
    for (let i = 0; ; i ^= 1) {
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) break;
      size += bytesRead;
      next = file.read(buffers[i ^ 1] as Buffer, 0, PIECE_BYTES, size);
      hash.update(bytesRead === PIECE_BYTES ? buffer : buffer.subarray(0, bytesRead));
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    await file.close();
  }
}
