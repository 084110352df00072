/**
 * The size and sha256 (and FileDigest.pieces) of one file, read in 4 MiB pieces with the next read already
 * running while a piece is hashed: the copy out of the page cache (a libuv thread)
 * overlaps the hashing (this thread). Runs in the hashing workers (hash-pool.ts).
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

import type { FileDigest } from '@cedana/core';
import { PieceHasher, type PieceSpec } from './piece-digests.js';

export type { FileDigest };

const PIECE_BYTES = 4 << 20;

/** With `pieces`, the digests of its pieces too (and no sha256 when `pieces.sha256` is false). */
export async function digestFile(path: string, pieces?: PieceSpec): Promise<FileDigest> {
  const hash = pieces?.sha256 === false ? undefined : createHash('sha256');
  const pieced = pieces && new PieceHasher(pieces.addon);
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
      const read = bytesRead === PIECE_BYTES ? buffer : buffer.subarray(0, bytesRead);
      hash?.update(read);
      pieced?.update(read);
    }
    return { size, sha256: hash?.digest('hex') ?? '', ...(pieced && { pieces: pieced.finish() }) };
  } finally {
    await file.close();
  }
}

/**
 * digestFile for a small file (hash-pool.ts: under 1 MiB) of `expected` bytes: read into one
 * buffer of that size (not two of 4 MiB). A file that has grown since is hashed as digestFile does.
 */
export async function digestSmallFile(path: string, expected: number): Promise<FileDigest> {
  const file = await open(path, 'r');
  let size = 0;
  const buffer = Buffer.allocUnsafe(expected + 1);
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, size, buffer.length - size, size);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (size === buffer.length) break; // more than expected
    }
  } finally {
    await file.close();
  }
  if (size > expected) return digestFile(path);
  return { size, sha256: createHash('sha256').update(buffer.subarray(0, size)).digest('hex') };
}
