import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError, compressionOf, type DumpAdapter, fileNameFor, isCedanaError, Steps } from '@cedana/core';
import { checkpointSize, packCheckpoint } from '../checkpoint/archive.js';
import { type ArchiveCompression, archivePath, CODECS } from '../checkpoint/codecs.js';
import { type ManifestDraft, writeManifest } from '../checkpoint/manifest.js';
import { codecReady } from '../checkpoint/native-codec.js';
import { makePrivate, PRIVATE_DIR_MODE } from '../checkpoint/private-modes.js';
import { type DumpIntent, NO_INTENT } from '../jobs/dump-journal.js';
import { dumpPlace } from './dump-place.js';
import { watchDumpProgress } from './dump-progress.js';
import { keepFailedDumpLog } from './failed-dump-log.js';
import { addCriuStats, phaseProgress, timed } from './measure.js';

/**
 * Creates the checkpoint's folder for CRIU, and after the dump writes
 * checkpoint.json and packs the folder into its archive, hashing the images as it
 * packs them (one read). On failure it removes what it made, unless the process is
 * already gone: then the images are the only copy and stay, uncompressed.
 * Each step is written to the dump journal before the next begins (`intent`), so that a
 * daemon killed meanwhile finishes or undoes the dump when it starts again.
 */
export const prepareDumpDirWith = (intent: DumpIntent): DumpAdapter =>
  function prepareDumpDirAdapter(next) {
    return async function prepareDumpDir(ctx, req, res) {
      const steps = new Steps();
      const place = await dumpPlace(ctx, req);
      await ensureWritable(place.base);
      // Streams are compressed by the streamer as CRIU writes them: the folder itself is not packed.
      const streamed = (req.streams ?? 0) > 0;
      // The codec packing will need, before CRIU touches the job (built on first use).
      if (!streamed) await codecReady(req.compression);
      // Staged images (remote storage, every form but streams) must fit before CRIU freezes the job.
      if (!streamed) await place.checkRoom?.(ctx.pid || req.pid);
      const id = randomBytes(6).toString('hex');
      // A generated name is unique to the second; the ID tells two dumps within one second apart:
      // the first one's folder, or the archive it was packed into (the folder is gone then), is there.
      // req.name follows the name rule (validateDumpRequest); a JID from before the rule is not put in a path as it is.
      const name = req.name || `dump-${req.type}-${req.jid ? fileNameFor(req.jid) : req.pid || id}-${timestamp()}`;
      if (req.name) await place.checkName(req.name);
      let dir = join(place.base, name);
      if (!req.name && (await archiveExists(dir, req.compression))) dir = `${dir}-${id}`;
      await mkdir(dir, { mode: PRIVATE_DIR_MODE }).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST' && !req.name) {
          dir = `${dir}-${id}`;
          return mkdir(dir, { mode: PRIVATE_DIR_MODE });
        }
        if (err.code === 'EEXIST')
          throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `checkpoint ${dir} already exists`, {
            hint: 'choose another --name, or remove the old checkpoint',
          });
        throw dirError(place.base, err);
      });
      ctx.imagesDir = dir;
      // Remote storage: what a plugin writes as the dump goes (the shards) is uploaded as it is written.
      const live = streamed ? place.live?.(dir) : undefined;
      if (live) ctx.pipeToStorage = (file) => live.pipe(file);
      let compression = streamed ? 'lz4' : req.compression;
      const factsNow = (): ManifestDraft => ({
        id,
        pid: ctx.pid,
        type: req.type,
        jid: req.jid,
        compression,
        streams: req.streams,
        ...ctx.manifest,
        ...(ctx.fileDigests && { fileDigests: ctx.fileDigests }),
      });
      try {
        await intent.started({
          id,
          dir,
          jid: req.jid,
          type: req.type,
          pid: ctx.pid || req.pid,
          compression: req.compression,
          streams: req.streams ?? 0,
          leaveRunning: ctx.criu.leaveRunning,
          facts: factsNow(),
        });
        const stopWatch = req.streams ? () => {} : watchDumpProgress(ctx, dir);
        steps.mark('folder');
        const criuNs = await timed(() => next(ctx, req, res)).finally(stopWatch);
        steps.mark('dump');
        if (ctx.stats) ctx.stats.criuNs = criuNs;
        await live?.endWriting();
      } catch (caught) {
        // An upload that failed made the writers fail (EPIPE): its reason is the one to tell.
        const err = (await live?.abort()) ?? caught;
        await ctx.settleTree?.(false);
        // Read the free space before the partial images are removed: CRIU's own log may not say ENOSPC.
        const full = await nearlyFull(place.base);
        await keepFailedDumpLog(err, dir, ctx.config['log.dir'], id, ctx.log); // CRIU's log outlives the partial images
        await rm(dir, { recursive: true, force: true });
        throw noSpaceFrom(err, place.base, full, place.noSpaceHint);
      }
      const createdAt = new Date().toISOString();
      const facts = factsNow();
      await intent.imagesDone(ctx.pid, facts, createdAt);
      steps.mark('journal');
      // CRIU's images and the streamer's shards were made with their own modes: 0600 now (the folder was 0700 all along).
      await makePrivate(dir).catch((err: unknown) => ctx.log.warn({ err, dir }, 'cannot make the checkpoint files private'));
      await addCriuStats(ctx, dir, 'dump');
      const rawBytes = await checkpointSize(dir).catch(() => 0);
      steps.mark('modesAndStats');
      const packStarted = process.hrtime.bigint();
      let packed: { path: string; size: number };
      try {
        packed = await place.pack(dir, streamed ? 'none' : compressionOf(req.compression), {
          signal: ctx.signal,
          manifest: facts,
          onProgress: phaseProgress(ctx, 'pack'),
        });
      } catch (err) {
        if (ctx.criu.leaveRunning) {
          await rm(dir, { recursive: true, force: true });
          throw noSpaceFrom(err, req.dir);
        }
        if (ctx.settleTree) {
          // The tree was kept stopped for this: nothing stored, so it goes on (the shards were never on this disk).
          await ctx.settleTree(false);
          await rm(dir, { recursive: true, force: true });
          throw jobContinued(err);
        }
        // The process is gone: keep the images, uncompressed, rather than lose the job.
        ctx.log.error({ err }, 'packing the checkpoint failed; keeping the uncompressed images');
        const inMemory = (await inTmpfs(dir)) ? ' (a tmpfs: memory, lost at a reboot; restore it or copy it to disk)' : '';
        res.messages.push(
          `${place.failed} failed (${(err as Error).message}); the checkpoint was kept uncompressed${place.base === req.dir ? '' : ` in ${dir}${inMemory}`}`,
        );
        await writeManifest(dir, { ...facts, compression: 'none' }).catch(() => {});
        packed = await packCheckpoint(dir, 'none');
        compression = 'none';
      }
      steps.mark('pack');
      await ctx.settleTree?.(true);
      if (ctx.stats) {
        // A plugin that wrote the images as streams may have set these already.
        ctx.stats.writeNs ||= Number(process.hrtime.bigint() - packStarted);
        ctx.stats.bytesRaw ||= rawBytes;
        ctx.stats.bytesStored ||= packed.size;
        ctx.stats.compression ||= compression;
      }
      res.checkpoint = {
        id,
        jid: req.jid,
        type: req.type,
        path: packed.path,
        compression,
        size: packed.size,
        createdAt,
        pid: ctx.pid,
        streams: req.streams ?? 0,
      };
      await intent.packed(res.checkpoint);
      steps.mark('journal');
      ctx.log.debug({ ms: steps.total(), steps: steps.ms }, 'dump folder steps (ms)');
    };
  };

/** Without a journal (unit tests). */
export const prepareDumpDir: DumpAdapter = prepareDumpDirWith(NO_INTENT);

/** Whether the archive that packing `dir` with `compression` makes exists already. */
async function archiveExists(dir: string, compression: string): Promise<boolean> {
  if (!(compression in CODECS)) return false; // none: the folder itself
  return access(archivePath(dir, compression as ArchiveCompression)).then(
    () => true,
    () => false,
  );
}

async function ensureWritable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw dirError(dir, err as NodeJS.ErrnoException);
  }
}

function dirError(dir: string, err: NodeJS.ErrnoException): CedanaError {
  if (err.code === 'ENOSPC') return new CedanaError('CEDANA_ERR_NO_SPACE', `no space left in ${dir}`);
  return new CedanaError('CEDANA_ERR_CHECKPOINT_DIR', `checkpoint folder ${dir} is not writable: ${err.code ?? err.message}`);
}

/** statfs's f_type of a tmpfs (linux/magic.h TMPFS_MAGIC). */
const TMPFS_MAGIC = 0x01021994;

/** Whether `dir` is on a tmpfs: files there are memory, and a reboot loses them. */
async function inTmpfs(dir: string): Promise<boolean> {
  const s = await statfs(dir).catch(() => undefined);
  return s?.type === TMPFS_MAGIC;
}

/** True when the filesystem of `dir` has less than 1 MiB or 0.5% free: a failure there is most likely for lack of space. */
async function nearlyFull(dir: string): Promise<boolean> {
  const s = await statfs(dir).catch(() => undefined);
  if (!s) return false;
  const free = s.bavail * s.bsize;
  return free < 1 << 20 || s.bavail < s.blocks * 0.005;
}

/** CRIU or the archive writer ran out of space: say so with the right code. */
function noSpaceFrom(err: unknown, dir: string, full = false, hint?: string): unknown {
  const text = isCedanaError(err) ? [err.message, ...err.details].join('\n') : String((err as Error)?.message ?? err);
  if (full || (err as NodeJS.ErrnoException)?.code === 'ENOSPC' || /No space left on device|ENOSPC/.test(text)) {
    return new CedanaError('CEDANA_ERR_NO_SPACE', `no space left in ${dir} while dumping; the job was left running`, {
      details: isCedanaError(err) ? err.details : [],
      cause: err,
      ...(hint && { hint }),
    });
  }
  return err;
}

/** Storing failed and the stopped tree was continued: `err`, saying the job runs on. */
function jobContinued(err: unknown): unknown {
  if (!isCedanaError(err)) return err;
  return new CedanaError(err.code, `${err.message}; nothing was registered and the job was continued`, {
    hint: err.hint,
    details: err.details,
    cause: err,
  });
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
}
