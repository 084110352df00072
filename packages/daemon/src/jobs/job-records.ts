/** Job records in the store: looking them up, and the states a job's record goes through. */
import { randomBytes } from 'node:crypto';
import { CedanaError, type ExitStatus, processStartTime } from '@cedana/core';
import type { Job, JobState, ListReq } from '@cedana/core/proto';
import type { Store } from '../store/store.js';

export class JobRecords {
  constructor(private readonly store: Store) {}

  async list(req: ListReq): Promise<Job[]> {
    const jobs = await this.store.listJobs();
    return jobs.filter((j) => (req.jids.length === 0 || req.jids.includes(j.jid)) && (!req.type || j.type === req.type));
  }

  async get(jid: string): Promise<Job> {
    const job = await this.store.getJob(jid);
    if (!job) throw jobNotFound(jid);
    return job;
  }

  async byPid(pid: number): Promise<Job> {
    const job = (await this.store.listJobs()).find((j) => j.state?.status === 'running' && j.state.pid === pid);
    if (!job) throw new CedanaError('CEDANA_ERR_JOB_NOT_FOUND', `no running job with PID ${pid}`);
    return job;
  }

  async ensureNew(jid: string): Promise<void> {
    if (await this.store.getJob(jid)) throw new CedanaError('CEDANA_ERR_JOB_EXISTS', `a job with JID "${jid}" already exists`);
  }

  /** Records the job's exit; false when there is no record (or no state) to mark. */
  async markExited(jid: string, status: ExitStatus): Promise<boolean> {
    const job = await this.store.getJob(jid);
    if (!job?.state) return false;
    job.state.status = 'exited';
    job.state.exitCode = status.code ?? undefined;
    job.state.exitSignal = status.signal ?? '';
    job.state.endedAt = new Date().toISOString();
    await this.store.putJob(job);
    return true;
  }

  /** After a migration: the job runs on another daemon, and its record says where (`ADDRESS JID`). */
  async markMigrated(jid: string, to: string, checkpointKept: boolean): Promise<void> {
    const job = await this.get(jid);
    if (job.state) {
      job.state.status = 'migrated';
      job.state.endedAt = new Date().toISOString();
    }
    job.migratedTo = to;
    if (!checkpointKept) job.lastCheckpoint = undefined;
    await this.store.putJob(job);
  }
}

/** The state of a job whose process `pid` has just started (or been restored, or adopted). */
export async function runningState(pid: number): Promise<JobState> {
  return {
    pid,
    status: 'running',
    startedAt: new Date().toISOString(),
    startTicks: (await processStartTime(pid)) ?? 0,
    exitSignal: '',
    endedAt: '',
    host: '',
  };
}

/**
 * A job's plugin details with a request's on top, plugin by plugin: `restore job J --id NEW`
 * keeps the job's other details and changes the ID.
 */
export function mergeDetails(
  job: Record<string, unknown> | undefined,
  req: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (!job) return req;
  if (!req) return job;
  const out: Record<string, unknown> = { ...job };
  for (const [plugin, value] of Object.entries(req)) {
    const base = out[plugin];
    out[plugin] = isRecord(base) && isRecord(value) ? { ...base, ...value } : value;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function jobNotFound(jid: string): CedanaError {
  return new CedanaError('CEDANA_ERR_JOB_NOT_FOUND', `no job with JID "${jid}"`);
}

export function newJid(): string {
  return randomBytes(4).toString('hex');
}
