/**
 * The source side of `cedana migrate job J --to ADDRESS`, in this order:
 *
 *   1. dial the target and ask it (MigratePrepare) whether it can take the job: token, version,
 *      plugins, JID, space. A refusal stops here: nothing was frozen.
 *   2. dump the job as streams (lz4 shards) into migrate.dir (a tmpfs; checkpoint.dir with --keep):
 *      the job is frozen from here, and gone once the dump ends.
 *   3. send the checkpoint's files (checkpoint-sender.ts) and a file-backed job's log to the target
 *      (MigrateReceive),
 *      which checks every sha256 against checkpoint.json, restores it, and answers "running".
 *   4. record the job as migrated to "ADDRESS JID" and drop the staged images (unless --keep).
 *
 * If 3 fails in any way (the target dies, refuses, or its restore fails), the job is restored
 * here from the staged images, so it runs on; only if that fails too is the checkpoint kept
 * and named in the error.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BaseContext,
  CedanaError,
  type Config,
  clientTlsOf,
  fileNameFor,
  HOST_VERSION,
  type Logger,
  type Measured,
} from '@cedana/core';
import type { Job, MigratePrepareResp, MigrateReq, MigrateResp } from '@cedana/core/proto';
import type { JobManager } from '../jobs/job-manager.js';
import type { Store } from '../store/store.js';
import { CheckpointSender } from './checkpoint-sender.js';
import { openChannel } from './data-link.js';
import { pidGone, samePidSpace } from './host-identity.js';
import { migrateDir } from './migrate-dir.js';
import { migrateLazily } from './migrate-lazy-out.js';
import { dialTarget, type TargetDaemon } from './target-client.js';

/** How long the end of a migration to this PID space waits for the dumped PID to be free. */
const PID_GONE_MS = 5_000;

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
  if (req.lazy) return migrateLazily(d, ctx, req, job);
  const streams = req.streams || d.config['checkpoint.streams'] || 1;
  const targetJid = req.targetJid || job.jid;

  const tls = clientTlsOf(d.config);
  const target = await dialTarget(req.to, req.token, tls);
  try {
    const prep = await askTarget(target, req, job, { jid: targetJid, streams, lazy: false });
    const data = await openChannel(req.to, prep, 'files', d.config, ctx.log);
    const t1 = performance.now();

    const parent = req.keep ? d.config['checkpoint.dir'] : await migrateDir(d.config);
    const name = `migrate-${fileNameFor(job.jid)}-${Date.now()}`;
    // Opened before the dump, so a target gone meanwhile fails the transfer at once.
    const sender = new CheckpointSender(target, prep.id, data.socket);
    if (d.config['migrate.send_during_dump']) sender.tail(join(parent, name));
    const dumped = await d.jobs
      .dump(ctx, { jid: job.jid, type: '', pid: 0, dir: parent, name, compression: '', streams, criu: undefined, details: undefined })
      .catch((err) => {
        sender.cancel(); // the target drops what it received; the failed dump left the job running
        throw err;
      });
    const checkpoint = dumped.checkpoint;
    if (!checkpoint) throw new CedanaError('CEDANA_ERR_INTERNAL', `the dump of job "${job.jid}" made no checkpoint`);
    const t2 = performance.now();
    ctx.log.info({ jid: job.jid, to: req.to, path: checkpoint.path }, 'migration: dumped, sending the rest');

    // One machine (the tests, the benches): the target restores into this PID space, and the dump's
    // end kills the tree; with the shards sent during the dump the restore would come before the
    // kernel freed the PID (the target refuses a PID in use).
    if (!job.pidNamespace && (await samePidSpace(prep))) await pidGone(job.state?.pid ?? 0, PID_GONE_MS);
    let restored: { jid: string; pid: number };
    try {
      restored = await sender.finish(checkpoint.path, await jobLogOf(job));
    } catch (err) {
      throw await comeBack(d, ctx, job, checkpoint, req, err as Error);
    }
    const t3 = performance.now();
    await d.jobs.markMigrated(job.jid, `${req.to} ${restored.jid}`, req.keep);
    if (!req.keep) await dropCheckpoint(d.store, checkpoint);
    const messages = [...dumped.messages, ...(data.warning ? [data.warning] : [])];
    if (req.keep) messages.push(`the checkpoint stays here: ${checkpoint.path} (checkpoint ${checkpoint.id})`);
    return {
      target: req.to,
      targetJid: restored.jid,
      targetPid: restored.pid,
      messages,
      times: {
        prepareMs: t1 - t0,
        dumpMs: t2 - t1,
        transferAndRestoreMs: t3 - t2,
        downtimeMs: t3 - t1,
        totalMs: performance.now() - t0,
        pagesMs: 0,
      },
    };
  } finally {
    target.close();
  }
}

/** A job writing to a file (not through an I/O holder) needs that file on the target too. */
/** MigratePrepare: the target checks token, version, plugins, JID and room; a refusal comes before anything froze. */
export async function askTarget(
  target: TargetDaemon,
  req: MigrateReq,
  job: Job,
  ask: { jid: string; streams: number; lazy: boolean },
): Promise<MigratePrepareResp> {
  return target
    .prepare({
      ...ask,
      type: job.type,
      cedanaVersion: HOST_VERSION,
      bytes: await residentBytes(job.state?.pid ?? 0),
      attachable: job.attachable,
    })
    .catch((err: Error & { remoteCode?: string }) => {
      throw new CedanaError(
        'CEDANA_ERR_MIGRATE_REFUSED',
        `the target ${req.to} refused job "${job.jid}" before anything froze: ${err.message}${err.remoteCode ? ` (${err.remoteCode})` : ''}`,
      );
    });
}

export async function jobLogOf(job: Job): Promise<{ path: string; mode: number } | undefined> {
  if (job.type !== 'process' || job.attachable || !job.log) return undefined;
  const st = await stat(job.log).catch(() => undefined);
  return st?.isFile() ? { path: job.log, mode: st.mode } : undefined;
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

export async function dropCheckpoint(store: Store, c: { id: string; path: string }): Promise<void> {
  await rm(c.path, { recursive: true, force: true });
  await store.deleteCheckpoint(c.id);
}

/** The job's resident memory: the target's bound for the images it will hold. */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return kb * 1024;
}
