/**
 * packCheckpoint: a checkpoint folder becomes `DIR.tar[.ext]` next to it, streamed
 * (tar stream -> codec -> file, never the whole image in memory). The archive is
 * written as `NAME.partial`, fsynced and renamed, so a crash never leaves a
 * truncated archive under the final name; only then is the folder removed.
 */
import { createWriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CedanaError, COMPRESSIONS, type Compression } from '@cedana/core';
import { cancelled, sourceError, writeError } from './archive-errors.js';
import { archivePath, CODECS } from './codecs.js';
import { type OnProgress, progressStage } from './progress.js';
import { scanFolder } from './size.js';
import { tarStream } from './tar-pack.js';

export interface ArchiveOptions {
  signal?: AbortSignal;
  /** Packing: bytes of the uncompressed tar stream. Unpacking: bytes of the archive read. */
  onProgress?: OnProgress;
}

export interface PackedCheckpoint {
  /** The archive, or the folder itself for 'none'. */
  path: string;
  /** Its size in bytes (a folder's: the sum of its files). */
  size: number;
}

/** CRIU's metadata first, so tools can read it without going through the pages. */
const FIRST_ENTRY = 'checkpoint.json';

export async function packCheckpoint(dir: string, compression: Compression, opts: ArchiveOptions = {}): Promise<PackedCheckpoint> {
  const { signal, onProgress } = opts;
  if (!COMPRESSIONS.includes(compression)) {
    throw new CedanaError(
      'CEDANA_ERR_INVALID_ARGUMENT',
      `unknown compression ${JSON.stringify(compression)}: expected one of ${COMPRESSIONS.join(', ')}`,
    );
  }
  const folder = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
  if (signal?.aborted) throw cancelled(signal, folder);
  const { scan, entries } = await readFolder(folder);
  if (compression === 'none') return { path: folder, size: scan.bytes };

  const target = archivePath(folder, compression);
  const partial = `${target}.partial`;
  // flush: fsync before the stream closes the file, and pipeline waits for that close.
  const out = createWriteStream(partial, { mode: 0o600, flush: true, highWaterMark: 1 << 20 });
  const source = tarStream(folder, entries);
  let written = partial;
  try {
    const progress: Transform[] = onProgress ? [progressStage(scan.tarBytes, onProgress)] : [];
    await pipeline([source, ...progress, ...CODECS[compression].encoders(), out], { signal });
    await rename(partial, target);
    written = target;
    await syncFolder(dirname(target));
  } catch (err) {
    // Both ends closed before anything is removed: no fd keeps a deleted file's space.
    await Promise.all(
      [out, source].map((stream) => stream.closed || new Promise<void>((resolve) => stream.destroy().once('close', () => resolve()))),
    );
    await rm(written, { force: true });
    const needs = { bytes: scan.tarBytes, exact: compression === 'tar' };
    throw await writeError(err, { path: target, wrote: out.bytesWritten, needs, signal });
  }
  const { size } = await stat(target);
  try {
    await rm(folder, { recursive: true });
  } catch (err) {
    const hint = `the archive is complete: remove ${folder} by hand`;
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_DIR',
      `packed ${target} but could not remove the folder ${folder}: ${(err as Error).message}`,
      { hint },
    );
  }
  return { path: target, size };
}

async function readFolder(folder: string): Promise<{ scan: Awaited<ReturnType<typeof scanFolder>>; entries: string[] }> {
  try {
    if (!(await stat(folder)).isDirectory()) {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `${folder} is not a checkpoint folder: packing expects a folder of CRIU images`);
    }
    const names = (await readdir(folder)).sort(
      (a, b) => Number(b === FIRST_ENTRY) - Number(a === FIRST_ENTRY) || (a < b ? -1 : a > b ? 1 : 0),
    );
    if (names.length === 0)
      throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `the checkpoint folder ${folder} is empty: nothing to pack`);
    return { scan: await scanFolder(folder), entries: names };
  } catch (err) {
    throw sourceError(err, folder);
  }
}

async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
