/**
 * The source side of `cedana migrate job J --to ADDRESS`, in this order:
 *
 *   1. dial the target and ask it (MigratePrepare) whether it can take the job: token, version,
 *      plugins, JID, space. A refusal stops here: nothing was frozen.
 *   2. dump the job as streams (lz4 shards) into migrate.dir (a tmpfs; checkpoint.dir with --keep):
 *      the job is frozen from here, and gone once the dump ends.
 *   3. send the checkpoint's files (and a file-backed job's log) to the target (MigrateReceive),
 *      which checks every sha256 against checkpoint.json, restores it, and answers "running".
 *   4. record the job as migrated to "ADDRESS JID" and drop the staged images (unless --keep).
 *
 * If 3 fails in any way (the target dies, refuses, or its restore fails), the job is restored
 * here from the staged images, so it runs on; only if that fails too is the checkpoint kept
 * and named in the error.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type BaseContext, CedanaError, type Config, HOST_VERSION, type Logger, type Measured } from '@cedana/core';
import type { Job, MigrateChunk, MigrateReq, MigrateResp } from '@cedana/core/proto';
import type { ClientWritableStream } from '@grpc/grpc-js';
import type { JobManager } from '../jobs/job-manager.js';
import type { Store } from '../store/store.js';
import { migrateDir } from './migrate-dir.js';
import { dialTarget, type TargetDaemon } from './target-client.js';

/** The size of each data message: the streamer's chunk size. */
const PIECE = 1 << 20;

export interface MigrateDeps {
  jobs: JobManager;
  store: Store;
  config: Config;
  log: Logger;
}

export async function migrateJob(d: MigrateDeps, ctx: BaseContext & Measured, req: MigrateReq): Promise<MigrateResp> {
  const t0 = performance.now();
  const job = await d.jobs.get(req.jid);
  if (job.state?.status !== 'running')
    throw new CedanaError(
      'CEDANA_ERR_JOB_NOT_RUNNING',
      `job "${job.jid}" is ${job.state?.status ?? 'unknown'}, not running: there is nothing to migrate`,
    );
  if (!req.to)
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'migrate needs --to ADDRESS (host:port of the target daemon, or its socket path)');
  const streams = req.streams || d.config['checkpoint.streams'] || 1;
  const targetJid = req.targetJid || job.jid;

  const target = await dialTarget(req.to, req.token);
  try {
    const prep = await target
      .prepare({
        jid: targetJid,
        type: job.type,
        cedanaVersion: HOST_VERSION,
        bytes: await residentBytes(job.state.pid),
        streams,
        attachable: job.attachable,
      })
      .catch((err: Error & { remoteCode?: string }) => {
        throw new CedanaError(
          'CEDANA_ERR_MIGRATE_REFUSED',
          `the target ${req.to} refused job "${job.jid}" before anything froze: ${err.message}${err.remoteCode ? ` (${err.remoteCode})` : ''}`,
        );
      });
    const t1 = performance.now();

    const dir = req.keep ? '' : await migrateDir(d.config);
    const dumped = await d.jobs.dump(ctx, {
      jid: job.jid,
      type: '',
      pid: 0,
      dir,
      name: `migrate-${job.jid}-${Date.now()}`,
      compression: '',
      streams,
      criu: undefined,
      details: undefined,
    });
    const checkpoint = dumped.checkpoint;
    if (!checkpoint) throw new CedanaError('CEDANA_ERR_INTERNAL', `the dump of job "${job.jid}" made no checkpoint`);
    const t2 = performance.now();
    ctx.log.info({ jid: job.jid, to: req.to, path: checkpoint.path }, 'migration: dumped, sending');

    let restored: { jid: string; pid: number };
    try {
      restored = await send(target, prep.id, checkpoint.path, job);
    } catch (err) {
      throw await comeBack(d, ctx, job, checkpoint, req, err as Error);
    }
    const t3 = performance.now();
    await d.jobs.markMigrated(job.jid, `${req.to} ${restored.jid}`, req.keep);
    if (!req.keep) await dropCheckpoint(d.store, checkpoint);
    const messages = [...dumped.messages];
    if (req.keep) messages.push(`the checkpoint stays here: ${checkpoint.path} (checkpoint ${checkpoint.id})`);
    return {
      target: req.to,
      targetJid: restored.jid,
      targetPid: restored.pid,
      messages,
      times: { prepareMs: t1 - t0, dumpMs: t2 - t1, transferAndRestoreMs: t3 - t2, downtimeMs: t3 - t1, totalMs: performance.now() - t0 },
    };
  } finally {
    target.close();
  }
}

/** Sends the folder's files one after another, then the job's log; resolves with the target's answer. */
async function send(target: TargetDaemon, id: string, path: string, job: Job): Promise<{ jid: string; pid: number }> {
  const { stream, done } = target.receive();
  done.catch(() => {}); // awaited below; a failure may come while we still write
  try {
    await write(stream, { part: { $case: 'id', value: id } }, done);
    const names = (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    for (const name of names) await sendFile(stream, join(path, name), name, 0, done);
    // A job writing to a file (not through an I/O holder) needs that file on the target too.
    const log = job.type === 'process' && !job.attachable && job.log ? await stat(job.log).catch(() => undefined) : undefined;
    if (log?.isFile()) await sendFile(stream, job.log, '', log.mode, done);
    await write(stream, { part: { $case: 'done', value: true } }, done);
    stream.end();
  } catch (err) {
    stream.cancel();
    // The target's own reason, when it ended the stream, says more than our write's failure.
    await done.catch((remote: Error) => {
      throw remote;
    });
    throw err;
  }
  const res = await done;
  return { jid: res.jid, pid: res.pid };
}

async function sendFile(
  stream: ClientWritableStream<MigrateChunk>,
  file: string,
  name: string,
  /** The job log's mode; 0 for a checkpoint file. */
  logMode: number,
  ended: Promise<unknown>,
): Promise<void> {
  const jobLog = logMode !== 0;
  const mode = logMode;
  let sent = false;
  for await (const data of createReadStream(file, { highWaterMark: PIECE }) as AsyncIterable<Buffer>) {
    await write(stream, { part: { $case: 'file', value: { name, data, jobLog, mode } } }, ended);
    sent = true;
  }
  // An empty file is one empty message: the target makes it.
  if (!sent) await write(stream, { part: { $case: 'file', value: { name, data: Buffer.alloc(0), jobLog, mode } } }, ended);
}

/** Writes one message, waiting for room; fails as soon as the call has failed or ended. */
function write(stream: ClientWritableStream<MigrateChunk>, m: MigrateChunk, ended: Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const closed = () => reject(new Error('the target ended the transfer before it was complete'));
    if (stream.destroyed || stream.writableEnded) return closed();
    const settle = (err?: Error) => {
      stream.off('close', closed);
      stream.off('error', settle);
      if (err) reject(err);
      else resolve();
    };
    stream.once('close', closed);
    stream.once('error', settle);
    ended.then(closed, (err: Error) => settle(err));
    if (stream.write(m)) settle();
    else stream.once('drain', () => settle());
  });
}

/** After a failed send: the job runs here again from the staged images, and the error says what happened. */
async function comeBack(
  d: MigrateDeps,
  ctx: BaseContext & Measured,
  job: Job,
  checkpoint: { id: string; path: string },
  req: MigrateReq,
  why: Error & { remoteCode?: string },
): Promise<CedanaError> {
  const reason = `${why.message}${why.remoteCode ? ` (${why.remoteCode})` : ''}`;
  ctx.log.warn({ jid: job.jid, to: req.to, err: reason }, 'migration failed after the dump: restoring the job here');
  try {
    const back = await d.jobs.restore(ctx, {
      jid: job.jid,
      path: '',
      checkpointId: '',
      type: '',
      criu: undefined,
      attachable: false,
      log: '',
      details: undefined,
    });
    if (!req.keep) await dropCheckpoint(d.store, checkpoint);
    return new CedanaError(
      'CEDANA_ERR_MIGRATE_FAILED',
      `migrating job "${job.jid}" to ${req.to} failed after the dump: ${reason}; the job runs here again (PID ${back.pid})`,
    );
  } catch (err) {
    return new CedanaError(
      'CEDANA_ERR_MIGRATE_FAILED',
      `migrating job "${job.jid}" to ${req.to} failed after the dump: ${reason}; restoring it here failed too: ${(err as Error).message}`,
      { hint: `the checkpoint is kept: \`cedana restore job ${job.jid}\` (${checkpoint.path}, checkpoint ${checkpoint.id})` },
    );
  }
}

async function dropCheckpoint(store: Store, c: { id: string; path: string }): Promise<void> {
  await rm(c.path, { recursive: true, force: true });
  await store.deleteCheckpoint(c.id);
}

/** The job's resident memory: the target's bound for the images it will hold. */
async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return kb * 1024;
}
