/**
 * A dump to remote storage: CRIU's folder (in storage.staging_dir) is packed straight into
 * an object (no archive file on the local disk), or, for a folder checkpoint, each file
 * is uploaded as an object; files uploaded as they were written (`live`: a --streams
 * dump's shards, storage/remote-live.ts) are waited for and listed with the digests their
 * writer took. checkpoint.json goes last. Any failure aborts what was uploaded and leaves
 * the folder; once checkpoint.json is stored the folder is removed.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CedanaError, type Compression, type FileDigest, type ObjectUpload, type StorageClient } from '@cedana/core';
import { type OnProgress, type PackedCheckpoint, packCheckpoint } from '../checkpoint/archive.js';
import { type CheckpointManifest, type ManifestDraft, manifestText } from '../checkpoint/manifest.js';
import { archiveObject, manifestUrl, objectUrl } from './remote-layout.js';
import type { LiveUploads } from './remote-live.js';

export interface RemotePackOptions {
  client: StorageClient;
  /** The checkpoint's URL (DIR/NAME). */
  url: string;
  manifest: ManifestDraft;
  signal?: AbortSignal | undefined;
  onProgress?: OnProgress | undefined;
  /** Bytes stored in the bucket so far. */
  onUpload?: ((bytes: number) => void) | undefined;
  /** Files uploaded at once for a folder checkpoint (one per stream). */
  parallel: number;
  /** Files of the folder checkpoint uploaded as they were written (gone from `dir`); their digests are in manifest.fileDigests. */
  live?: LiveUploads | undefined;
}

export async function packToStorage(dir: string, compression: Compression, opts: RemotePackOptions): Promise<PackedCheckpoint> {
  const { client, url, signal } = opts;
  const running = new Set<ObjectUpload>();
  const stored: string[] = [];
  /** Every store() not settled yet: a failure waits for them, so none completes after the clean-up. */
  const pending = new Set<Promise<unknown>>();
  /** Uploads `write`'s bytes to the object `at`; a completed object is removed again if a later step fails. */
  const store = (at: string, write: (up: ObjectUpload) => Promise<Buffer | undefined>, reserve?: number) => {
    const storing = storeOne(at, write, reserve);
    pending.add(storing);
    const settled = () => pending.delete(storing);
    storing.then(settled, settled);
    return storing;
  };
  const storeOne = async (at: string, write: (up: ObjectUpload) => Promise<Buffer | undefined>, reserve?: number) => {
    let uploaded = 0;
    const up = client.upload(at, {
      signal,
      ...(reserve !== undefined && { reserve }),
      onBytes: (n) => {
        uploaded = n;
      },
    });
    running.add(up);
    const head = await write(up);
    const { size } = await up.finish(head);
    running.delete(up);
    stored.push(at);
    return { size, uploaded: () => uploaded };
  };
  try {
    let packed: { size: number; manifest: CheckpointManifest };
    if (compression === 'none') {
      const { fileDigests = {}, ...facts } = opts.manifest;
      const liveNames = opts.live?.names ?? [];
      const localDigests = Object.fromEntries(Object.entries(fileDigests).filter(([name]) => !liveNames.includes(name)));
      const local = await packCheckpoint(dir, 'none', { manifest: { ...facts, fileDigests: localDigests } });
      const listed = local.manifest as CheckpointManifest;
      const localSize = await uploadFiles(dir, listed, opts, store);
      const live = opts.live ? await liveObjects(opts.live, fileDigests) : { files: {}, size: 0, urls: [] };
      stored.push(...live.urls);
      const files = Object.fromEntries(Object.entries({ ...listed.files, ...live.files }).sort(([a], [b]) => a.localeCompare(b)));
      packed = { size: localSize + live.size, manifest: { ...listed, files } };
    } else {
      const archive = objectUrl(url, archiveObject(compression));
      let uploaded = 0;
      const local = await packCheckpoint(dir, compression, {
        manifest: opts.manifest,
        keepFolder: true,
        signal,
        onProgress: opts.onProgress,
        sink: (reserve) => {
          const up = client.upload(archive, {
            reserve,
            signal,
            onBytes: (n) => {
              uploaded = n;
              opts.onUpload?.(n);
            },
          });
          running.add(up);
          return {
            path: archive,
            stream: up.stream,
            written: () => uploaded,
            commit: async (head) => {
              const { size } = await up.finish(head);
              running.delete(up);
              stored.push(archive);
              return size;
            },
            abort: async () => {
              running.delete(up);
              await up.abort();
            },
          };
        },
      });
      packed = { size: local.size, manifest: local.manifest as CheckpointManifest };
    }
    const text = Buffer.from(manifestText(packed.manifest));
    await store(manifestUrl(url), async (up) => {
      await pipeline(Readable.from([text]), up.stream, { signal });
      return undefined;
    });
    await rm(dir, { recursive: true, force: true });
    return { path: url, size: packed.size + text.length, manifest: packed.manifest };
  } catch (err) {
    await opts.live?.abort();
    await Promise.all([...running].map((u) => u.abort().catch(() => {})));
    // An upload that finished meanwhile (a retry of its PUT) is in `stored` once it settled.
    await Promise.allSettled([...pending]);
    if (stored.length > 0) await client.remove(stored).catch(() => {});
    throw err;
  }
}

/**
 * The objects uploaded as they were written, once all are complete: each listed with the
 * digest its writer took, which must be of the size the object has.
 */
async function liveObjects(live: LiveUploads, digests: Record<string, FileDigest>) {
  const objects = await live.stored();
  const files: Record<string, FileDigest> = {};
  for (const [name, { url, size }] of Object.entries(objects)) {
    const digest = digests[name];
    if (digest?.size !== size) {
      throw new CedanaError(
        'CEDANA_ERR_CHECKPOINT_INVALID',
        `${url} has ${size} bytes, but its writer ${digest ? `wrote ${digest.size}` : 'left no digest of it'}`,
        { hint: 'the plugin that wrote it and the upload disagree: dump again, and report this with the daemon log' },
      );
    }
    files[name] = digest;
  }
  return { files, size: Object.values(objects).reduce((sum, o) => sum + o.size, 0), urls: Object.values(objects).map((o) => o.url) };
}

type Store = (at: string, write: (up: ObjectUpload) => Promise<Buffer | undefined>) => Promise<{ size: number; uploaded: () => number }>;

/** Uploads every file checkpoint.json lists, `opts.parallel` at once; resolves with their total size. */
async function uploadFiles(dir: string, manifest: CheckpointManifest, opts: RemotePackOptions, store: Store): Promise<number> {
  const names = Object.keys(manifest.files);
  const total = names.reduce((sum, n) => sum + (manifest.files[n]?.size ?? 0), 0);
  let done = 0;
  let next = 0;
  let failed = false;
  const worker = async () => {
    // After the first failure no worker starts another file: the caller cleans up what was stored.
    while (next < names.length && !failed) {
      const name = names[next++] as string;
      const { size } = await store(objectUrl(opts.url, name), async (up) => {
        await pipeline(createReadStream(join(dir, name), { highWaterMark: 1 << 20 }), up.stream, { signal: opts.signal });
        return undefined;
      }).catch((err: unknown) => {
        failed = true;
        throw err;
      });
      done += size;
      opts.onProgress?.(done, total);
      opts.onUpload?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel, names.length)) }, worker));
  return total;
}
