/**
 * unpackCheckpoint: an archive (format found from its first bytes) becomes a folder
 * of CRIU images. Entries that would leave the folder, device files and damaged or
 * truncated archives are refused with CEDANA_ERR_CHECKPOINT_INVALID. On failure
 * what was unpacked is removed (the whole folder if this call created it, else the
 * entries that were not there before); the archive is only ever read.
 *
 * With `verify`, every file is hashed as it is written and checked against the
 * archive's checkpoint.json (see ManifestCheck): a changed, truncated or missing file
 * fails the unpacking, naming the file, and the verified manifest is returned.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CedanaError, isCedanaError } from '@cedana/core';
import { cancelled, sourceError, writeError } from './archive-errors.js';
import { CODECS } from './codecs.js';
import { detectFormat } from './format.js';
import type { CheckpointManifest } from './manifest.js';
import { ManifestCheck } from './manifest-check.js';
import type { ArchiveOptions } from './pack.js';
import { progressStage } from './progress.js';
import { type EntryRoute, TarExtractor } from './tar-extract.js';

export interface UnpackOptions extends ArchiveOptions {
  /** Check every file against checkpoint.json while unpacking. */
  verify?: boolean;
  /** Files written elsewhere than the folder (image-serve.ts). */
  route?: EntryRoute;
  /** The daemon's helper (native-codec.ts): page files with pieces' digests are checked by those, not their sha256. */
  pieceAddon?: string | undefined;
  /** false: a failure leaves what was unpacked, for the caller to remove (CRIU may still write its log there). */
  removeOnFailure?: boolean;
}

export async function unpackCheckpoint(path: string, destDir: string, opts: UnpackOptions & { verify: true }): Promise<CheckpointManifest>;
export async function unpackCheckpoint(path: string, destDir: string, opts?: UnpackOptions): Promise<CheckpointManifest | undefined>;
export async function unpackCheckpoint(path: string, destDir: string, opts: UnpackOptions = {}): Promise<CheckpointManifest | undefined> {
  const { signal } = opts;
  if (signal?.aborted) throw cancelled(signal, path);
  const format = await detectFormat(path);
  if (format === 'none') {
    const hint = 'a folder checkpoint (compression none) is used in place: it needs no unpacking';
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${path} is a checkpoint folder, not an archive`, { hint });
  }
  const { size } = await stat(path).catch((err: unknown) => Promise.reject(sourceError(err, path)));
  const read = createReadStream(path, { highWaterMark: 1 << 20 });
  return unpackStream(read, { format, size, source: `the checkpoint archive ${path}` }, destDir, opts);
}

/** What unpackStream reads: an archive's bytes from anywhere (a file, an object in remote storage). */
export interface ArchiveSource {
  format: keyof typeof CODECS;
  /** Its size in bytes, for progress. */
  size: number;
  /** Named in errors ("the checkpoint archive PATH"). */
  source: string;
}

/** unpackCheckpoint of an archive read from `read`; `read` is consumed and destroyed. */
export async function unpackStream(
  read: Readable,
  archive: ArchiveSource,
  destDir: string,
  opts: UnpackOptions = {},
): Promise<CheckpointManifest | undefined> {
  const { signal, onProgress } = opts;
  const { format, size, source } = archive;
  const before = await prepareDestination(destDir).catch((err: unknown) => {
    read.destroy();
    throw err;
  });
  const check = opts.verify ? new ManifestCheck(source, opts.pieceAddon) : undefined;
  const extractor = new TarExtractor(destDir, source, check, opts.route);
  const progress: Transform[] = onProgress ? [progressStage(size, onProgress)] : [];
  try {
    await pipeline([read, ...progress, ...CODECS[format].decoders(source), extractor], { signal });
  } catch (err) {
    await extractor.idle();
    if (opts.removeOnFailure !== false) await removeUnpacked(destDir, before);
    if (!signal?.aborted && isDecodeError(err)) {
      throw new CedanaError(
        'CEDANA_ERR_CHECKPOINT_INVALID',
        `${source} is truncated or damaged: ${(err as Error).message} (${format} data)`,
        { cause: err },
      );
    }
    const needs = format === 'tar' ? { bytes: size, exact: false } : undefined;
    throw await writeError(err, { path: destDir, wrote: extractor.bytesWritten, ...(needs && { needs }), signal });
  }
  return check?.finish();
}

/** What was there before: the first folder this call created, or the names already in `destDir`. */
type Before = { created: string } | { names: Set<string> };

async function prepareDestination(destDir: string): Promise<Before> {
  try {
    const info = await stat(destDir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (info === undefined) return { created: (await mkdir(destDir, { recursive: true, mode: 0o700 })) ?? destDir };
    if (!info.isDirectory()) {
      throw new CedanaError('CEDANA_ERR_CHECKPOINT_DIR', `cannot unpack into ${destDir}: it exists and is not a folder`);
    }
    return { names: new Set(await readdir(destDir)) };
  } catch (err) {
    throw await writeError(err, { path: destDir, wrote: 0 });
  }
}

async function removeUnpacked(destDir: string, before: Before): Promise<void> {
  if ('created' in before) {
    await rm(before.created, { recursive: true, force: true });
    return;
  }
  const added = (await readdir(destDir).catch(() => [] as string[])).filter((name) => !before.names.has(name));
  await Promise.all(added.map((name) => rm(join(destDir, name), { recursive: true, force: true })));
}

/** zlib's errors for bad input (Z_DATA_ERROR, Z_BUF_ERROR "unexpected end of file"...). */
function isDecodeError(err: unknown): boolean {
  if (isCedanaError(err)) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_');
}
