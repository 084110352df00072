import { randomBytes } from 'node:crypto';
import { copyFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CedanaError,
  features,
  isCedanaError,
  type PluginSource,
  type RestoreAdapter,
  type RestoreHandlerFn,
  type Started,
} from '@cedana/core';
import { readManifestFromArchive, unpackCheckpoint } from '../checkpoint/archive.js';
import { canServeArchives, isPagesImage, type ServedArchive, serveArchive } from '../checkpoint/image-serve.js';
import { MANIFEST_FILE, parseManifest, verifyManifest, verifyManifestExcept } from '../checkpoint/manifest.js';
import { helperPath } from '../checkpoint/native-codec.js';
import { fetchFromStorage } from '../storage/remote-fetch.js';
import type { RemoteFill } from '../storage/remote-fill.js';
import { objectUrl } from '../storage/remote-layout.js';
import { isRemote, storageFor } from '../storage/remote-storage.js';
import { addCriuStats, manifestBytes, phaseProgress, timed } from './measure.js';
import { checkRestoreRoom } from './staging-room.js';

/**
 * Makes the checkpoint's images available to CRIU: a folder is used in place, an
 * archive restored by the engine is served to CRIU as it is read (restoreServingArchive),
 * any other archive is unpacked next to itself first. Either way every file is verified
 * against checkpoint.json before any restored task runs: an unpacked archive's as it is
 * unpacked, a folder's before CRIU starts, but for the page files of a folder or an
 * archive the engine restores, which are verified while CRIU restores and hold the
 * restored tasks until they are (RestoreContext.resumeGate). The checkpoint itself is
 * never changed.
 */
export const prepareRestoreDir: RestoreAdapter = (next) =>
  async function prepareRestoreDir(ctx, req, res) {
    if (isRemote(req.path)) return restoreFromStorage(next, ctx, req, res);
    const info = await stat(req.path).catch(() => undefined);
    if (!info) throw new CedanaError('CEDANA_ERR_CHECKPOINT_NOT_FOUND', `checkpoint ${req.path} does not exist`);
    if (info.isDirectory()) {
      if (req.lazy) return restoreLazily(next, ctx, req, res);
      if (engineRestores(ctx.plugins, req.type)) return restoreHoldingResume(next, ctx, req, res);
      const verifyNs = await timed(async () => {
        ctx.manifest = await verifyManifest(req.path);
      });
      ctx.imagesDir = req.path;
      const size = manifestBytes(ctx.manifest);
      ctx.log.debug({ bytes: size, ms: Math.round(verifyNs / 1e6) }, 'verified the checkpoint');
      if (ctx.stats) Object.assign(ctx.stats, { writeNs: verifyNs, bytesRaw: size, bytesStored: size, compression: 'none' });
      return restoreMeasured(next, ctx, req, res);
    }
    const dir = `${req.path}.restore-${randomBytes(4).toString('hex')}`;
    if (!req.lazy && engineRestores(ctx.plugins, req.type) && (await canServeArchives())) {
      return restoreServingArchive(next, ctx, req, res, dir, info.size);
    }
    try {
      const unpackNs = await timed(async () => {
        ctx.manifest = await unpackCheckpoint(req.path, dir, {
          signal: ctx.signal,
          verify: true,
          pieceAddon: await helperPath(),
          onProgress: phaseProgress(ctx, 'unpack'),
        });
      });
      ctx.imagesDir = dir;
      if (ctx.stats) {
        Object.assign(ctx.stats, {
          writeNs: unpackNs,
          bytesRaw: manifestBytes(ctx.manifest),
          bytesStored: info.size,
          compression: ctx.manifest.compression ?? '',
        });
      }
      return await restoreMeasured(next, ctx, req, res);
    } catch (err) {
      throw await keepRestoreLog(err, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

/**
 * A remote checkpoint is fetched into storage.staging_dir, verified as it arrives, and
 * removed there after the restore. A streamed one's shards go on arriving while CRIU
 * restores (ctx.arriving, read by the streamer): their download failing fails the
 * restore with the download's own error, which names the object.
 */
async function restoreFromStorage(next: RestoreHandlerFn, ...[ctx, req, res]: Parameters<RestoreHandlerFn>): Promise<Started> {
  const client = await storageFor(req.path, ctx);
  const dir = join(ctx.config['storage.staging_dir'], `restore-${randomBytes(6).toString('hex')}`);
  let arriving: RemoteFill | undefined;
  try {
    const fetchNs = await timed(async () => {
      const fetched = await fetchFromStorage(req.path, dir, {
        client,
        signal: ctx.signal,
        onProgress: phaseProgress(ctx, 'download'),
        parallel: 2, // objects at once, each queue x part size in flight
        checkRoom: (at, bytes) =>
          checkRestoreRoom(
            at,
            bytes,
            `storage.staging_dir (${ctx.config['storage.staging_dir']}, a tmpfs by default) holds the images while CRIU restores from them: set it to a folder with room for them (on disk, if memory is short)`,
          ),
      });
      ctx.manifest = fetched.manifest;
      arriving = fetched.arriving;
      if (arriving) ctx.arriving = arriving;
      if (ctx.stats) {
        const compression = ctx.manifest.compression ?? '';
        Object.assign(ctx.stats, { bytesRaw: manifestBytes(fetched.manifest), bytesStored: fetched.bytesStored, compression });
      }
    });
    if (ctx.stats) ctx.stats.writeNs = fetchNs;
    const what = arriving
      ? 'fetched and verified the checkpoint from storage but its shards, which arrive during the restore'
      : 'fetched and verified the checkpoint from storage';
    ctx.log.info({ url: req.path, ms: Math.round(fetchNs / 1e6) }, what);
    ctx.imagesDir = dir;
    // A failed download fails CRIU's next read of the images: its error is the one to tell.
    const started = await restoreMeasured(next, ctx, req, res).catch((err: unknown) => {
      throw arriving?.failure ?? namingShard(err, req.path, arriving);
    });
    if (arriving) ctx.log.info({ url: req.path, downloadMs: arriving.wholeAfterMs }, 'restored while the shards arrived');
    return started;
  } catch (err) {
    throw await keepRestoreLog(err, dir);
  } finally {
    arriving?.abort();
    await arriving?.done.catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/** A damaged chunk's error names the shard file: say which object it was read from. */
function namingShard(err: unknown, url: string, arriving: RemoteFill | undefined): unknown {
  if (!arriving || !isCedanaError(err) || err.code !== 'CEDANA_ERR_CHECKPOINT_INVALID') return err;
  const name = arriving.files.find((f) => err.message.includes(f));
  if (!name) return err;
  const at = objectUrl(url, name);
  if (err.message.includes(at)) return err;
  return new CedanaError(err.code, `${err.message} (object ${at})`, { hint: err.hint, details: err.details, cause: err });
}

/**
 * An archive restored by the engine: CRIU restores in --stream mode from the archive as
 * it is read (image-serve.ts): the images but the pages are unpacked into `dir` and
 * verified before CRIU starts, the page files go into CRIU's pipes, hashed on the way,
 * and the restored tasks are held (RestoreContext.resumeGate) until the whole archive
 * matched checkpoint.json. No copy of the pages is written, and CRIU no longer waits for
 * the whole archive.
 */
async function restoreServingArchive(
  next: RestoreHandlerFn,
  ctx: Parameters<RestoreHandlerFn>[0],
  req: Parameters<RestoreHandlerFn>[1],
  res: Parameters<RestoreHandlerFn>[2],
  dir: string,
  storedBytes: number,
): Promise<Started> {
  const where = `${MANIFEST_FILE} of the checkpoint archive ${req.path}`;
  const listed = parseManifest(JSON.stringify(await readManifestFromArchive(req.path, MANIFEST_FILE)), where);
  const startedAt = performance.now();
  let served: ServedArchive | undefined;
  const extraArgs = [...ctx.criu.extraArgs];
  try {
    served = await serveArchive({ archive: req.path, dir, listed, signal: ctx.signal, onProgress: phaseProgress(ctx, 'unpack') });
    await served.small;
    ctx.manifest = listed;
    ctx.imagesDir = dir;
    ctx.criu.extraArgs.push('--stream', '-D', served.criuDir);
    const archive = served;
    const verified = archive.verified.then((manifest) => {
      ctx.manifest = manifest;
      if (ctx.stats) {
        const compression = manifest.compression ?? '';
        const writeNs = Math.round((performance.now() - startedAt) * 1e6);
        Object.assign(ctx.stats, { writeNs, bytesRaw: manifestBytes(manifest), bytesStored: storedBytes, compression });
      }
    });
    verified.catch(() => {}); // awaited below, whatever the handler does
    let held = false;
    ctx.resumeGate = {
      hold: () => {
        held = true;
        return verified;
      },
    };
    let started: Started;
    try {
      started = await restoreMeasured(next, ctx, req, res);
    } catch (err) {
      // CRIU stopped because the archive was damaged: that is the error to report.
      await archive.stop();
      throw archive.failure() ?? err;
    } finally {
      delete ctx.resumeGate;
    }
    if (!held)
      ctx.log.warn({ pid: started.pid }, 'the restore handler did not hold the restored tasks for the verification of the archive');
    await verified.catch((err: unknown) => {
      try {
        process.kill(started.pid, 'SIGKILL');
      } catch {
        // it ended already
      }
      throw err;
    });
    ctx.log.debug({ pid: started.pid, ms: Math.round(performance.now() - startedAt) }, 'restored while the archive was read and verified');
    return started;
  } catch (err) {
    throw await keepRestoreLog(err, dir);
  } finally {
    ctx.criu.extraArgs.splice(0, ctx.criu.extraArgs.length, ...extraArgs);
    await served?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A lazy restore of a folder (refused for anything else by validateRestoreRequest): every
 * file but the page contents is verified first, the pages while the restored process
 * already runs. A page file that does not match then kills the process: the checkpoint
 * is damaged, and the job must not go on with wrong memory.
 */
async function restoreLazily(next: RestoreHandlerFn, ...[ctx, req, res]: Parameters<RestoreHandlerFn>): Promise<Started> {
  let rest: () => Promise<void> = async () => {};
  const verifyNs = await timed(async () => {
    ({ manifest: ctx.manifest, rest } = await verifyManifestExcept(req.path, isPagesImage));
  });
  ctx.imagesDir = req.path;
  const size = manifestBytes(ctx.manifest as never);
  if (ctx.stats) Object.assign(ctx.stats, { writeNs: verifyNs, bytesRaw: size, bytesStored: size, compression: 'none' });
  const started = await restoreMeasured(next, ctx, req, res);
  const log = ctx.log;
  void rest().then(
    () => log.debug({ pid: started.pid, imagesDir: req.path }, 'lazy restore: the page files match checkpoint.json'),
    (err: unknown) => {
      let killed = false;
      try {
        process.kill(started.pid, 'SIGKILL');
        killed = true;
      } catch {
        // it ended already
      }
      log.error(
        { err, pid: started.pid, imagesDir: req.path, killed },
        `lazy restore: ${(err as Error).message}; the restored process was ${killed ? 'killed' : 'already gone'}`,
      );
    },
  );
  return started;
}

/**
 * Whether the engine's own handler restores `type` (it honours RestoreContext.resumeGate);
 * runtimes that export their own handlers run CRIU through their runtime.
 */
function engineRestores(plugins: PluginSource, type: string): boolean {
  return type === 'process' || features.RestoreHandler.get(plugins, type) === undefined;
}

/**
 * A folder restored by the engine: every file but the page contents is verified first (a
 * damaged image could steer what CRIU does), the pages while CRIU restores, which holds the
 * restored tasks stopped until then (RestoreContext.resumeGate): the sha256 pass no longer
 * comes before CRIU. A page file that does not match fails the restore before any restored
 * task ran, with the error naming it. Should the handler not hold the tasks (a handler of
 * an older engine), a mismatch kills what it restored.
 */
async function restoreHoldingResume(next: RestoreHandlerFn, ...[ctx, req, res]: Parameters<RestoreHandlerFn>): Promise<Started> {
  let rest: () => Promise<void> = async () => {};
  const verifyNs = await timed(async () => {
    ({ manifest: ctx.manifest, rest } = await verifyManifestExcept(req.path, isPagesImage));
  });
  ctx.imagesDir = req.path;
  const size = manifestBytes(ctx.manifest);
  if (ctx.stats) Object.assign(ctx.stats, { writeNs: verifyNs, bytesRaw: size, bytesStored: size, compression: 'none' });
  if (!Object.keys(ctx.manifest.files).some(isPagesImage)) return restoreMeasured(next, ctx, req, res);
  const startedAt = performance.now();
  let verifiedAt = startedAt;
  const pages = rest().then(() => {
    verifiedAt = performance.now();
  });
  pages.catch(() => {}); // awaited below, whatever the handler does
  let held = false;
  ctx.resumeGate = {
    hold: () => {
      held = true;
      return pages;
    },
  };
  let started: Started;
  try {
    started = await restoreMeasured(next, ctx, req, res);
  } catch (err) {
    // CRIU was stopped because of a damaged page file: that is the error to report.
    throw await pages.then(
      () => err,
      (damaged: unknown) => damaged,
    );
  } finally {
    delete ctx.resumeGate;
  }
  const log = ctx.log;
  if (held) {
    log.debug({ pid: started.pid, ms: Math.round(verifiedAt - startedAt) }, 'verified the page files while the engine restored');
    return started;
  }
  log.warn({ pid: started.pid }, 'the restore handler did not hold the restored tasks for the verification of the page files');
  await pages.catch((err: unknown) => {
    try {
      process.kill(started.pid, 'SIGKILL');
    } catch {
      // it ended already
    }
    throw err;
  });
  return started;
}

/** The rest of the pipeline (CRIU), timed, with CRIU's own figures read from its stats-restore. */
async function restoreMeasured(next: RestoreHandlerFn, ...[ctx, req, res]: Parameters<RestoreHandlerFn>): Promise<Started> {
  let started: Started | undefined;
  const criuNs = await timed(async () => {
    started = await next(ctx, req, res);
  });
  if (ctx.stats) ctx.stats.criuNs = criuNs;
  await addCriuStats(ctx, ctx.imagesDir, 'restore');
  return started as Started;
}

/** The unpacked images go, but CRIU's log of a failed restore stays beside the checkpoint. */
async function keepRestoreLog(err: unknown, dir: string): Promise<unknown> {
  const log = join(dir, 'restore.log');
  const kept = `${dir}.log`;
  if (
    !(await copyFile(log, kept).then(
      () => true,
      () => false,
    ))
  )
    return err;
  if (isCedanaError(err)) {
    for (let i = 0; i < err.details.length; i++) err.details[i] = (err.details[i] as string).replaceAll(log, kept);
  }
  return err;
}
