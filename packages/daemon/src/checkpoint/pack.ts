/**
 * packCheckpoint: a checkpoint folder becomes `DIR.tar[.ext]` next to it, streamed
 * (tar stream -> codec -> sink, never the whole image in memory). The archive is
 * written as `NAME.partial`, fsynced and renamed, so a crash never leaves a
 * truncated archive under the final name; only then is the folder removed. Another
 * sink (an object in remote storage, see archive-sink.ts) takes the same bytes.
 *
 * checkpoint.json is the archive's first entry. Given `manifest` facts, it is made
 * from the digests of the files as they are packed (one read of the images): the
 * rest is written behind a reserved head (see archive-head.ts, stored-head.ts), and
 * the head last. For 'none', writeManifest hashes the folder instead.
 */
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CedanaError, type Compression, compressionOf } from '@cedana/core';
import { cancelled, sourceError, writeError } from './archive-errors.js';
import { type ArchiveHead, existingHead, manifestHead } from './archive-head.js';
import { fileSink, type OpenSink } from './archive-sink.js';
import { archivePath, CODECS, type Codec } from './codecs.js';
import { type CheckpointManifest, MANIFEST_FILE, type ManifestDraft, writeManifest } from './manifest.js';
import { helperPath } from './native-codec.js';
import { isPagesImage, type PieceSpec } from './piece-digests.js';
import { type OnProgress, progressStage } from './progress.js';
import { ReadBuffers } from './read-buffers.js';
import { scanFolder, tarEntryBytes } from './size.js';
import { READ_BYTES, tarStream } from './tar-pack.js';

export interface ArchiveOptions {
  signal?: AbortSignal;
  /** Packing: bytes of the uncompressed tar stream. Unpacking: bytes of the archive read. */
  onProgress?: OnProgress;
}

export interface PackOptions extends ArchiveOptions {
  /**
   * Write checkpoint.json with these facts and the size and sha256 of every file
   * (replacing the folder's own). Without it, the folder's checkpoint.json, if any, goes first.
   */
  manifest?: ManifestDraft;
  /** Where the archive goes (default: the file `DIR.tar[.ext]` next to the folder). */
  sink?: OpenSink;
  /** Leave the folder once the archive is complete (the caller removes it when it is safe). */
  keepFolder?: boolean;
}

export interface PackedCheckpoint {
  /** The archive, or the folder itself for 'none'. */
  path: string;
  /** Its size in bytes (a folder's: the sum of its files). */
  size: number;
  /** The checkpoint.json written, when `manifest` facts were given. */
  manifest?: CheckpointManifest;
}

export async function packCheckpoint(dir: string, compression: Compression, opts: PackOptions = {}): Promise<PackedCheckpoint> {
  const { signal, onProgress } = opts;
  compressionOf(compression); // a caller's cast may have let anything through
  const folder = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
  if (signal?.aborted) throw cancelled(signal, folder);
  const { scan, entries, restBytes } = await readFolder(folder);
  if (compression === 'none') {
    if (opts.manifest === undefined) return { path: folder, size: scan.bytes };
    const manifest = await writeManifest(folder, opts.manifest);
    return { path: folder, size: (await scanFolder(folder)).bytes, manifest };
  }

  const codec: Codec = CODECS[compression];
  const addon = await helperPath();
  const piecesOf = (name: string): PieceSpec | undefined => (addon && isPagesImage(name) ? { addon, sha256: true } : undefined);
  const head = await planHead(folder, opts.manifest, (name) => piecesOf(name) !== undefined);
  const headBytes = codec.head.length(head.length);
  const sink = (opts.sink ?? fileSink(archivePath(folder, compression)))(headBytes);
  // The encoders give the read buffers back once they consumed them (read-buffers.ts).
  const reads = new ReadBuffers(READ_BYTES);
  const source = tarStream(folder, entries, head.onFile, reads, piecesOf);
  let size: number;
  try {
    const progress: Transform[] = onProgress ? [progressStage(restBytes, onProgress)] : [];
    await pipeline([source, ...progress, ...codec.encoders(head.bytes, (chunk) => reads.giveBack(chunk)), sink.stream], { signal });
    size = await sink.commit(codec.head.encode(head.bytes()));
  } catch (err) {
    // Both ends closed before anything is removed.
    await (source.closed || new Promise<void>((resolve) => source.destroy().once('close', () => resolve())));
    await sink.abort();
    const needs = { bytes: scan.tarBytes, exact: compression === 'tar' };
    throw await writeError(err, { path: sink.path, wrote: headBytes + sink.written(), needs, signal });
  }
  const target = sink.path;
  try {
    if (!opts.keepFolder) await rm(folder, { recursive: true });
  } catch (err) {
    const hint = `the archive is complete: remove ${folder} by hand`;
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_DIR',
      `packed ${target} but could not remove the folder ${folder}: ${(err as Error).message}`,
      { hint },
    );
  }
  const manifest = head.manifest();
  return { path: target, size, ...(manifest && { manifest }) };
}

interface FolderContents {
  scan: Awaited<ReturnType<typeof scanFolder>>;
  /** Top-level names in archive order, checkpoint.json (the head) left out. */
  entries: string[];
  /** Bytes of the tar stream without checkpoint.json. */
  restBytes: number;
}

async function readFolder(folder: string): Promise<FolderContents> {
  try {
    if (!(await stat(folder)).isDirectory()) {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `${folder} is not a checkpoint folder: packing expects a folder of CRIU images`);
    }
    const names = (await readdir(folder)).sort(archiveOrder);
    if (names.length === 0)
      throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `the checkpoint folder ${folder} is empty: nothing to pack`);
    const scan = await scanFolder(folder);
    const own = names.includes(MANIFEST_FILE) ? await lstat(join(folder, MANIFEST_FILE)) : undefined;
    const restBytes = scan.tarBytes - (own ? tarEntryBytes(MANIFEST_FILE, own.isFile() ? own.size : 0) : 0);
    return { scan, entries: names.filter((name) => name !== MANIFEST_FILE), restBytes };
  } catch (err) {
    throw sourceError(err, folder);
  }
}

/**
 * By name, CRIU's pages-*.img last: every image `cedana checkpoint inspect` reads then
 * comes before them, and it stops decoding there (checkpoint/images/load.ts).
 */
function archiveOrder(a: string, b: string): number {
  const pages = Number(a.startsWith('pages-')) - Number(b.startsWith('pages-'));
  if (pages !== 0) return pages;
  return a < b ? -1 : Number(a > b);
}

async function planHead(folder: string, facts: ManifestDraft | undefined, pieced: (name: string) => boolean): Promise<ArchiveHead> {
  try {
    return await (facts === undefined ? existingHead(folder) : manifestHead(folder, facts, pieced));
  } catch (err) {
    throw sourceError(err, folder);
  }
}
