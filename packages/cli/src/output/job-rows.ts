/** What `cedana ps` prints of each job: commands/jobs.ts renders it, and so does its fast path (fast-path/ps.ts). */
import type { Job } from '@cedana/core/proto';
import type { Cell } from './columns.js';
import { formatSize } from './columns.js';

export const JOB_HEAD = ['JID', 'TYPE', 'PID', 'STATUS', 'CHECKPOINT', 'SIZE', 'LOG'];
export const NO_JOBS = 'no jobs; start one with `cedana run process -- CMD`';

/** A job's status with how it ended: "exited (0)", "exited (SIGKILL)". */
export function jobStatus(job: Job): string {
  const s = job.state;
  if (!s) return 'unknown';
  if (s.exitSignal) return `${s.status} (${s.exitSignal})`;
  if (s.exitCode !== undefined && s.status !== 'running') return `${s.status} (${s.exitCode})`;
  return s.status;
}

export function jobRows(jobs: readonly Job[]): Cell[][] {
  return jobs.map((j) => [
    j.jid,
    j.gpuEnabled ? `${j.type} (GPU)` : j.type,
    j.state?.pid || undefined,
    jobStatus(j),
    j.lastCheckpoint?.path,
    j.lastCheckpoint ? formatSize(j.lastCheckpoint.size) : undefined,
    j.attachable ? 'attachable' : j.log,
  ]);
}
