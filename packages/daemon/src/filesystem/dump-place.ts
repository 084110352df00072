/**
 * Where a dump's checkpoint goes. A local --dir: CRIU's folder is made there and packed
 * next to itself. A remote one (`s3://bucket/prefix`): the storage is checked before CRIU
 * starts (endpoint, credentials, bucket; a failure leaves the job as it was), CRIU's folder
 * is made in storage.staging_dir (a tmpfs by default: the images are memory, never disk, and
 * gone once checkpoint.json is stored), and packing streams into the storage
 * (storage/remote-pack.ts): no archive is made locally.
 * Files a plugin writes as the dump goes (the streamer's shards) go to the storage as they
 * are written (`live`, storage/remote-live.ts): only the small files are staged.
 */
import { basename } from 'node:path';
import { CedanaError, type DumpContext } from '@cedana/core';
import type { DumpReq } from '@cedana/core/proto';
import { type PackedCheckpoint, type PackOptions, packCheckpoint } from '../checkpoint/archive.js';
import { readRemoteManifest } from '../storage/remote-fetch.js';
import { checkpointUrl } from '../storage/remote-layout.js';
import { type LiveUploads, liveUploads } from '../storage/remote-live.js';
import { packToStorage } from '../storage/remote-pack.js';
import { isRemote, storageFor } from '../storage/remote-storage.js';
import { phaseProgress } from './measure.js';
import { checkStagingRoom } from './staging-room.js';

export interface DumpPlace {
  /** The local folder CRIU's folder is made in. */
  base: string;
  /** What failed when packing fails, for the message of a checkpoint kept uncompressed. */
  failed: string;
  /** What to do when `base` fills up under CRIU, when it is not the checkpoint's own folder. */
  noSpaceHint?: string;
  /** Refuses a --name already taken there. */
  checkName(name: string): Promise<void>;
  pack(dir: string, compression: Parameters<typeof packCheckpoint>[1], opts: PackOptions): Promise<PackedCheckpoint>;
  /** Remote only: uploads of files written into `dir` as the dump goes; `pack` waits for them. */
  live?(dir: string): LiveUploads;
  /** Remote only: refuses, before CRIU, a dump whose images cannot fit where they are staged. */
  checkRoom?(pid: number): Promise<void>;
}

export async function dumpPlace(ctx: DumpContext, req: DumpReq): Promise<DumpPlace> {
  if (!isRemote(req.dir))
    return { base: req.dir, failed: `compression ${req.compression}`, checkName: async () => {}, pack: packCheckpoint };
  const client = await storageFor(req.dir, ctx);
  await client.check(req.dir);
  const noSpaceHint =
    `storage.staging_dir (${ctx.config['storage.staging_dir']}, a tmpfs by default) holds CRIU's images until they are stored: ` +
    "set it to a folder with room for the job's memory (on disk, if memory is short), or dump with --streams N, which stages none of them";
  // Bytes stored in the bucket so far, by what uploads them: the live files, then the rest.
  let live: LiveUploads | undefined;
  let liveBytes = 0;
  const upload = phaseProgress(ctx, 'upload');
  return {
    live(dir) {
      live = liveUploads(client, checkpointUrl(req.dir, basename(dir)), dir, {
        signal: ctx.signal,
        onBytes: (bytes) => {
          liveBytes = bytes;
          upload?.(bytes, 0);
        },
      });
      return live;
    },
    base: ctx.config['storage.staging_dir'],
    failed: `storing the checkpoint in ${req.dir}`,
    noSpaceHint,
    checkRoom: (pid) => checkStagingRoom(ctx.config['storage.staging_dir'], pid, noSpaceHint),
    async checkName(name) {
      const url = checkpointUrl(req.dir, name);
      const taken = await readRemoteManifest(client, url).then(
        () => true,
        () => false,
      );
      if (taken) {
        throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `checkpoint ${url} already exists`, {
          hint: 'choose another --name, or delete the old checkpoint (`cedana checkpoint delete ID`)',
        });
      }
    },
    pack(dir, compression, opts) {
      // One phase, 'upload': bytes stored in the bucket (an archive's total is known only at its end).
      return packToStorage(dir, compression, {
        client,
        url: checkpointUrl(req.dir, basename(dir)),
        manifest: opts.manifest ?? {},
        signal: opts.signal,
        live,
        onProgress: compression === 'none' && upload ? (done, total) => upload(liveBytes + done, live ? 0 : total) : undefined,
        onUpload: compression === 'none' || !upload ? undefined : (bytes) => upload(bytes, 0),
        // One upload per stream (each holds about queue x part size), or two for a folder's files.
        parallel: (req.streams ?? 0) > 0 ? (req.streams as number) : 2,
      });
    },
  };
}
