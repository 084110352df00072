/**
 * A restore from remote storage: checkpoint.json is read first (no checkpoint without it),
 * then the archive object is streamed (ranged GETs in parallel) into the same decoding,
 * extraction and checks as a local archive, or, for a folder checkpoint, each file object
 * is downloaded and hashed as it arrives (on a hashing worker). Files checked piece by
 * piece by their reader (a `--streams N` checkpoint's shards: FileDigest.chunkDigests) are
 * not waited for: once every other file is here and checked, they go on arriving
 * (remote-fill.ts) while CRIU restores from them. A changed, truncated or missing object
 * is refused naming its URL; the checkpoint in the bucket is only ever read.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CedanaError, isCedanaError, type StorageClient } from '@cedana/core';
import { type OnProgress, unpackStream } from '../checkpoint/archive.js';
import { CODECS } from '../checkpoint/codecs.js';
import { StreamHash } from '../checkpoint/hash-pool.js';
import { type CheckpointManifest, parseManifest } from '../checkpoint/manifest.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../checkpoint/private-modes.js';
import { RemoteFill } from './remote-fill.js';
import { archiveObject, manifestUrl, objectUrl } from './remote-layout.js';

export interface FetchOptions {
  client: StorageClient;
  signal?: AbortSignal | undefined;
  onProgress?: OnProgress | undefined;
  /** Files downloaded at once for a folder checkpoint. */
  parallel: number;
  /** Refuses, before any download, images of `bytes` in all (checkpoint.json's sizes) that `destDir` has no room for. */
  checkRoom?: ((destDir: string, bytes: number) => Promise<void>) | undefined;
}

export interface Fetched {
  manifest: CheckpointManifest;
  /** Bytes read from the storage (or to be, with `arriving`). */
  bytesStored: number;
  /** Files still being downloaded while the restore goes on (see ArrivingImages); wait for or abort it. */
  arriving?: RemoteFill;
}

/** The checkpoint.json of the remote checkpoint `url`; a missing one means there is no checkpoint there. */
export async function readRemoteManifest(client: StorageClient, url: string, signal?: AbortSignal): Promise<CheckpointManifest> {
  const at = manifestUrl(url);
  const { stream } = await client.download(at, { ...(signal && { signal }) }).catch((err: unknown) => {
    if ((err as { code?: string }).code !== 'CEDANA_ERR_CHECKPOINT_INVALID') throw err;
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_NOT_FOUND', `no checkpoint at ${url}: there is no ${at}`, {
      hint: 'list checkpoints with `cedana checkpoints`; a checkpoint is complete only once its checkpoint.json is stored',
    });
  });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return parseManifest(Buffer.concat(chunks).toString('utf8'), at);
}

export async function fetchFromStorage(url: string, destDir: string, opts: FetchOptions): Promise<Fetched> {
  const { client, signal } = opts;
  const top = await readRemoteManifest(client, url, signal);
  await mkdir(destDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await opts.checkRoom?.(
    destDir,
    Object.values(top.files).reduce((sum, f) => sum + f.size, 0),
  );
  const format = archiveFormat(top);
  if (format) {
    const archive = { url: objectUrl(url, archiveObject(format)) };
    const got = await client.download(archive.url, { ...(signal && { signal }) });
    const source = `the checkpoint archive ${archive.url}`;
    const manifest = (await unpackStream(got.stream, { format, size: got.size, source }, destDir, {
      verify: true,
      signal,
      onProgress: opts.onProgress,
    }).catch((err: unknown) => Promise.reject(namingObject(err, archive.url)))) as CheckpointManifest;
    sameFiles(top, manifest, url);
    return { manifest, bytesStored: got.size };
  }
  const later = new Set(Object.keys(top.files).filter((name) => checkedByReader(top, name)));
  // The shards start downloading at once, beside the small files: they are checked chunk by chunk
  // against the index once it is here and checked, and dropped if it is not.
  const objects = [...later].map((name) => ({ name, url: objectUrl(url, name), size: (top.files[name] as { size: number }).size }));
  const filling = objects.length > 0 ? RemoteFill.start(opts.client, destDir, objects, { signal, onProgress: opts.onProgress }) : undefined;
  filling?.catch(() => {}); // awaited below
  let bytesStored: number;
  try {
    bytesStored = await downloadFiles(url, destDir, top, opts, (name) => !later.has(name));
  } catch (err) {
    const fill = await filling?.catch(() => undefined);
    fill?.abort();
    await fill?.done.catch(() => {});
    await rm(destDir, { recursive: true, force: true });
    throw err;
  }
  if (!filling) return { manifest: top, bytesStored };
  const arriving = await filling.catch(async (err: unknown) => {
    await rm(destDir, { recursive: true, force: true });
    throw err;
  });
  return { manifest: top, bytesStored: bytesStored + objects.reduce((sum, o) => sum + o.size, 0), arriving };
}

/** A file its reader checks chunk by chunk against digests in another file of the checkpoint, downloaded (and hashed) first. */
function checkedByReader(m: CheckpointManifest, name: string): boolean {
  const of = m.files[name]?.chunkDigests;
  return of !== undefined && of !== name && Object.hasOwn(m.files, of) && !m.files[of]?.chunkDigests;
}

/** A damaged archive's error, saying which object it is read from. */
function namingObject(err: unknown, url: string): unknown {
  if (!isCedanaError(err) || err.code !== 'CEDANA_ERR_CHECKPOINT_INVALID' || err.message.includes(url)) return err;
  return new CedanaError(err.code, `${err.message} (in ${url})`, { hint: err.hint, details: err.details, cause: err });
}

/** The archive's compression, or undefined for a folder checkpoint (none, or streams: their shards are files). */
function archiveFormat(m: CheckpointManifest): keyof typeof CODECS | undefined {
  const streams = typeof m.streams === 'number' ? m.streams : 0;
  return streams === 0 && typeof m.compression === 'string' && m.compression in CODECS ? (m.compression as keyof typeof CODECS) : undefined;
}

/** checkpoint.json beside the archive must list what the archive's own lists. */
function sameFiles(top: CheckpointManifest, inner: CheckpointManifest, url: string): void {
  const names = new Set([...Object.keys(top.files), ...Object.keys(inner.files)]);
  for (const name of names) {
    if (top.files[name]?.sha256 !== inner.files[name]?.sha256) {
      throw new CedanaError(
        'CEDANA_ERR_CHECKPOINT_INVALID',
        `${manifestUrl(url)} and the archive's checkpoint.json disagree on ${name}: one of the objects was changed`,
      );
    }
  }
}

async function downloadFiles(
  url: string,
  destDir: string,
  manifest: CheckpointManifest,
  opts: FetchOptions,
  wanted: (name: string) => boolean,
): Promise<number> {
  const names = Object.keys(manifest.files).filter(wanted);
  const total = names.reduce((sum, n) => sum + (manifest.files[n]?.size ?? 0), 0);
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++] as string;
      const want = manifest.files[name] as { size: number; sha256: string };
      const at = objectUrl(url, name);
      const got = await opts.client.download(at, { ...(opts.signal && { signal: opts.signal }) }).catch((err: unknown) => {
        throw (err as { code?: string }).code === 'CEDANA_ERR_CHECKPOINT_INVALID'
          ? new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `checkpoint file ${name} is missing: ${(err as Error).message}`)
          : err;
      });
      if (got.size !== want.size) {
        got.stream.destroy();
        throw new CedanaError(
          'CEDANA_ERR_CHECKPOINT_INVALID',
          `${at} has ${got.size} bytes, checkpoint.json says ${want.size}: the object was truncated or changed`,
        );
      }
      // Hashed on a hashing worker as the bytes go by: the event loop stays free for the downloads and writes.
      const hash = new StreamHash();
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          done += chunk.length;
          opts.onProgress?.(done, total);
          const waiting = hash.update(chunk);
          if (waiting) waiting.then(() => callback(null, chunk), callback);
          else callback(null, chunk);
        },
      });
      const path = join(destDir, name);
      await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
      try {
        await pipeline(got.stream, hashing, createWriteStream(path, { mode: PRIVATE_FILE_MODE }), {
          signal: opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal,
        });
      } catch (err) {
        hash.abort();
        throw err;
      }
      if ((await hash.digest()).sha256 !== want.sha256) {
        throw new CedanaError(
          'CEDANA_ERR_CHECKPOINT_INVALID',
          `${at} does not match its sha256 in checkpoint.json: it was changed or corrupted`,
        );
      }
    }
  };
  const stop = new AbortController();
  const guarded = async () => {
    try {
      await worker();
    } catch (err) {
      // The first failure stops the others before anything is removed: no download writes into a removed folder.
      next = names.length;
      stop.abort(err);
      throw err;
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(opts.parallel, names.length)) }, guarded));
  if (stop.signal.aborted || results.some((r) => r.status === 'rejected')) {
    await rm(destDir, { recursive: true, force: true });
    throw stop.signal.reason ?? (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
  }
  return total;
}
