/**
 * The tar stream of a checkpoint folder. Headers come from the `tar` package (ustar,
 * plus a pax header for long names and sizes over 8 GiB, as its Pack writes them,
 * "portable": no owners); file contents are read here, because node-tar's Pack keeps
 * the file it is reading open forever when its stream is destroyed mid-way (every
 * aborted or failed pack leaked one fd, and with it the space of the deleted file).
 * Here a destroyed stream returns the generator, which closes the file.
 *
 * Folders are walked in name order; regular files, folders and symlinks only.
 */
import type { Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CedanaError } from '@cedana/core';
import { Header, type HeaderData, Pax } from 'tar';

const TAR_BLOCK = 512;
/** Read size: one LZ4 piece, and few enough syscalls for GiB-sized page images. */
const READ_BYTES = 4 << 20;

/** A stream of the tar archive of `names` (relative to `dir`, in this order), folders recursively. */
export function tarStream(dir: string, names: string[]): Readable {
  return Readable.from(tarChunks(dir, names), { objectMode: false, highWaterMark: READ_BYTES });
}

async function* tarChunks(dir: string, names: string[]): AsyncGenerator<Buffer> {
  for (const name of names) yield* entryChunks(dir, name);
  yield Buffer.alloc(2 * TAR_BLOCK);
}

async function* entryChunks(dir: string, name: string): AsyncGenerator<Buffer> {
  const path = join(dir, name);
  const stats = await lstat(path);
  if (stats.isDirectory()) {
    yield header(`${name}/`, 'Directory', stats);
    for (const child of (await readdir(path)).sort()) yield* entryChunks(dir, `${name}/${child}`);
  } else if (stats.isSymbolicLink()) {
    yield header(name, 'SymbolicLink', stats, await readlink(path));
  } else if (stats.isFile()) {
    yield header(name, 'File', stats);
    yield* fileChunks(path, stats.size);
    if (stats.size % TAR_BLOCK !== 0) yield Buffer.alloc(TAR_BLOCK - (stats.size % TAR_BLOCK));
  } else {
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_INVALID',
      `${path} is not a file, folder or symlink: a checkpoint folder holds nothing else`,
    );
  }
}

/** Exactly `size` bytes of the file (the size its header announced). */
async function* fileChunks(path: string, size: number): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    for (let left = size; left > 0; ) {
      const { buffer, bytesRead } = await file.read(Buffer.allocUnsafe(Math.min(READ_BYTES, left)), 0, Math.min(READ_BYTES, left), null);
      if (bytesRead === 0) {
        throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${path} shrank from ${size} to ${size - left} bytes while it was packed`, {
          hint: 'something changed the checkpoint folder during packing: dump again',
        });
      }
      left -= bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

function header(path: string, type: 'File' | 'Directory' | 'SymbolicLink', stats: Stats, linkpath?: string): Buffer {
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
