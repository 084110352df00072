/**
 * Which compression an archive uses, from its first bytes; the file name is not trusted.
 * A folder is a 'none' checkpoint. Tar is tested before zlib, whose 2-byte header a tar
 * entry name starting with 'x' can match.
 */
import { open, stat } from 'node:fs/promises';
import { CedanaError, type Compression } from '@cedana/core';
import { sourceError } from './archive-errors.js';
import { LZ4_MAGIC } from './lz4-frame.js';
import { ZSTD_MAGIC } from './zstd-frame.js';

const HEAD_BYTES = 512;

/** The compression of an archive starting with `head`, or undefined if none matches. */
export function formatOfHead(head: Buffer): Compression | undefined {
  if (head.length >= 4 && head.readUInt32LE(0) === LZ4_MAGIC) return 'lz4';
  if (head.length >= 4 && head.readUInt32LE(0) === ZSTD_MAGIC) return 'zstd';
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 8) return 'gzip';
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  if (head.length >= 2 && isZlibHeader(head[0] ?? 0, head[1] ?? 0)) return 'zlib';
  return undefined;
}

/** RFC 1950: deflate (CM 8) with a window of at most 32 KiB, a valid check value and no preset dictionary. */
function isZlibHeader(cmf: number, flg: number): boolean {
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && (cmf * 256 + flg) % 31 === 0 && (flg & 0x20) === 0;
}

export async function detectFormat(path: string): Promise<Compression> {
  try {
    if ((await stat(path)).isDirectory()) return 'none';
    const file = await open(path, 'r');
    try {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
      const head = buffer.subarray(0, bytesRead);
      const format = formatOfHead(head);
      if (format !== undefined) return format;
      throw new CedanaError(
        'CEDANA_ERR_CHECKPOINT_INVALID',
        `${path} is not a checkpoint archive: expected lz4, zstd, gzip, zlib or tar data, found ${bytesRead} bytes starting ${head.subarray(0, 8).toString('hex') || '(empty file)'}`,
      );
    } finally {
      await file.close();
    }
  } catch (err) {
    throw sourceError(err, path);
  }
}
