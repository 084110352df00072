/**
 * The job a dump or restore request names, checked against its record, and the request
 * filled from that record (type, PID, checkpoint path, details) before a pipeline sees it.
 */
import { CedanaError, checkName } from '@cedana/core';
import type { DumpReq, Job, RestoreReq } from '@cedana/core/proto';
import type { Store } from '../store/store.js';
import { jobNotFound, mergeDetails, newJid } from './job-records.js';

/** `dump job JID`: the job must be running; `req` gets its type, PID and details. */
export function fillDumpFromJob(req: DumpReq, job: Job): void {
  if (job.state?.status !== 'running') {
    throw new CedanaError(
      'CEDANA_ERR_JOB_NOT_RUNNING',
      `job "${job.jid}" is ${job.state?.status ?? 'unknown'}, not running: there is nothing to dump`,
      {
        hint: job.state?.status === 'checkpointed' ? `restore it with \`cedana restore job ${job.jid}\`` : undefined,
      },
    );
  }
  req.type = job.type;
  req.pid = job.state.pid;
  req.details = mergeDetails(job.details, req.details);
}

/** What a checkpoint's manifest keeps of its job, for a restore elsewhere to make the job again. */
export function manifestJob(job: Job): Record<string, unknown> {
  return {
    jid: job.jid,
    type: job.type,
    log: job.log,
    attachable: job.attachable,
    gpuEnabled: job.gpuEnabled,
    process: job.process,
  };
}

/**
 * The job a restore is of: `existing` when the request names a job that has a record (it
 * must not be running, and fills the request's path, type and details), else a new job's JID.
 */
export async function restoreTarget(store: Store, req: RestoreReq): Promise<{ jid: string; existing?: Job }> {
  if (req.checkpointId) {
    const c = await store.getCheckpoint(req.checkpointId);
    if (!c) throw new CedanaError('CEDANA_ERR_CHECKPOINT_NOT_FOUND', `no checkpoint with ID "${req.checkpointId}"`);
    req.path ||= c.path;
    req.jid ||= c.jid;
  }
  const existing = req.jid ? await store.getJob(req.jid) : undefined;
  // With a checkpoint path, a JID that names no job yet is the JID of the new job; without one, it must exist.
  if (req.jid && !existing && !req.path) throw jobNotFound(req.jid);
  if (existing?.state?.status === 'running') {
    throw new CedanaError('CEDANA_ERR_JOB_RUNNING', `job "${existing.jid}" is already running (PID ${existing.state.pid})`, {
      hint: `kill it first (\`cedana job kill ${existing.jid}\`), or restore the checkpoint as a new job with \`cedana restore ${existing.type} --path PATH\``,
    });
  }
  if (existing) {
    req.path ||= existing.lastCheckpoint?.path ?? '';
    if (!req.path)
      throw new CedanaError('CEDANA_ERR_CHECKPOINT_NOT_FOUND', `job "${existing.jid}" has no checkpoint`, {
        hint: `dump it first: \`cedana dump job ${existing.jid}\``,
      });
    req.type = existing.type;
    req.attachable ||= existing.attachable;
    req.details = mergeDetails(existing.details, req.details);
  }
  const jid = existing?.jid ?? checkName('JID', req.jid || newJid()); // a new job's JID; an old job keeps its own
  return { jid, existing };
}
