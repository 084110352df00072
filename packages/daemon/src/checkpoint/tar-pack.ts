/**
 * The tar stream of a checkpoint folder. Headers come from the `tar` package (ustar,
 * plus a pax header for long names and sizes over 8 GiB, as its Pack writes them,
 * "portable": no owners); file contents are read here, because node-tar's Pack keeps
 * the file it is reading open forever when its stream is destroyed mid-way (every
 * aborted or failed pack leaked one fd, and with it the space of the deleted file).
 * Here a destroyed stream returns the generator, which closes the file.
 *
 * Folders are walked in name order; regular files, folders and symlinks only. With
 * `onFile`, each file's sha256 is computed from the very bytes that go into the archive,
 * as they are read (on a hashing worker): packing and hashing are one pass over the images.
 */
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CedanaError, type FileDigest } from '@cedana/core';
import { Header, type HeaderData, Pax } from 'tar';
import { StreamHash } from './hash-pool.js';
import type { PieceSpec } from './piece-digests.js';
import type { ReadBuffers } from './read-buffers.js';

const TAR_BLOCK = 512;
/**
 * Read size: few enough syscalls for GiB-sized page images (1024 a GiB), and few MiB in flight
 * between the reader and the encoder (4 MiB reads held ~15 MiB more in a daemon packing 1 GiB).
 */
export const READ_BYTES = 1 << 20;

/** Called with each file's path (relative to the folder), size and sha256 (and pieces), once it was read whole. */
export type OnFileDigest = (name: string, digest: FileDigest) => void;
/** Which files get pieces' digests too (piece-digests.ts). */
export type PiecesOf = (name: string) => PieceSpec | undefined;

/**
 * A stream of the tar archive of `names` (relative to `dir`, in this order), folders recursively;
 * file contents are read into `reads`' buffers (of READ_BYTES) when given.
 */
export function tarStream(dir: string, names: string[], onFile?: OnFileDigest, reads?: ReadBuffers, piecesOf?: PiecesOf): Readable {
  return Readable.from(tarChunks(dir, names, onFile, reads, piecesOf), { objectMode: false, highWaterMark: READ_BYTES });
}

/** One regular file's whole tar entry (header, body, padding). */
export function fileEntry(name: string, body: Buffer, meta: { mode: number; mtime: Date }): Buffer {
  const pad = Buffer.alloc((TAR_BLOCK - (body.length % TAR_BLOCK)) % TAR_BLOCK);
  return Buffer.concat([header(name, 'File', { ...meta, size: body.length }), body, pad]);
}

async function* tarChunks(
  dir: string,
  names: string[],
  onFile: OnFileDigest | undefined,
  reads: ReadBuffers | undefined,
  piecesOf: PiecesOf | undefined,
): AsyncGenerator<Buffer> {
  for (const name of names) yield* entryChunks(dir, name, onFile, reads, piecesOf);
  yield Buffer.alloc(2 * TAR_BLOCK);
}

async function* entryChunks(
  dir: string,
  name: string,
  onFile: OnFileDigest | undefined,
  reads: ReadBuffers | undefined,
  piecesOf: PiecesOf | undefined,
): AsyncGenerator<Buffer> {
  const path = join(dir, name);
  const stats = await lstat(path);
  if (stats.isDirectory()) {
    yield header(`${name}/`, 'Directory', stats);
    for (const child of (await readdir(path)).sort()) yield* entryChunks(dir, `${name}/${child}`, onFile, reads, piecesOf);
  } else if (stats.isSymbolicLink()) {
    yield header(name, 'SymbolicLink', stats, await readlink(path));
  } else if (stats.isFile()) {
    yield header(name, 'File', stats);
    const hash = onFile && new StreamHash(piecesOf?.(name));
    try {
      yield* fileChunks(path, stats.size, hash, reads);
      if (hash) onFile?.(name, await hash.digest());
    } finally {
      hash?.abort();
    }
    if (stats.size % TAR_BLOCK !== 0) yield Buffer.alloc(TAR_BLOCK - (stats.size % TAR_BLOCK));
  } else {
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_INVALID',
      `${path} is not a file, folder or symlink: a checkpoint folder holds nothing else`,
    );
  }
}

/**
 * Exactly `size` bytes of the file (the size its header announced), each also fed to `hash`. A
 * buffer of `reads` is taken only once `hash` copied the chunk before (the one that may be given back).
 */
async function* fileChunks(
  path: string,
  size: number,
  hash: StreamHash | undefined,
  reads: ReadBuffers | undefined,
): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    for (let left = size; left > 0; ) {
      const want = Math.min(READ_BYTES, left);
      const { buffer, bytesRead } = await file.read(reads?.take() ?? Buffer.allocUnsafe(want), 0, want, null);
      if (bytesRead === 0) {
        throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${path} shrank from ${size} to ${size - left} bytes while it was packed`, {
          hint: 'something changed the checkpoint folder during packing: dump again',
        });
      }
      left -= bytesRead;
      const chunk = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      reads?.handOut(chunk, buffer);
      const backlog = hash?.update(chunk);
      yield chunk;
      await backlog;
    }
  } finally {
    await file.close();
  }
}

interface HeaderStats {
  mode: number;
  size: number;
  mtime: Date;
}

function header(path: string, type: 'File' | 'Directory' | 'SymbolicLink', stats: HeaderStats, linkpath?: string): Buffer {
  const data: HeaderData = {
    path,
    type,
    mode: stats.mode & 0o7777,
    size: type === 'File' ? stats.size : 0,
    mtime: type === 'Directory' ? undefined : stats.mtime,
    linkpath,
  };
  const ustar = new Header(data);
  const needsPax = ustar.encode();
  if (!ustar.block) throw new Error(`tar header of ${path} not encoded`);
  return needsPax ? Buffer.concat([new Pax(data).encode(), ustar.block]) : ustar.block;
}
