/** After a daemon restart: a running job's process watched again, and its I/O holder reconnected. */
import { isAlive, processStartTime, type Started } from '@cedana/core';
import type { Job } from '@cedana/core/proto';
import { watchProcess } from '../process/watch.js';
import type { ExitFiles } from './exit-files.js';
import { type HeldStarted, reconnectHolder } from './io-holder.js';

/**
 * The job's process as a Started to track again, or undefined when it ended while the daemon
 * was down (its PID gone, or now another process's: the start time differs). Its exit status
 * comes from its exit file when a restore shim or holder left one.
 */
export async function reattach(job: Job, ioDir: string, exitFiles: ExitFiles): Promise<Started | HeldStarted | undefined> {
  const state = job.state;
  if (!state) return undefined;
  const ticks = await processStartTime(state.pid);
  if (ticks === undefined || !(await isAlive(state.pid)) || (state.startTicks && ticks !== state.startTicks)) return undefined;
  const watched = () => watchProcess(state.pid, ticks).exited.then(async (s) => (await exitFiles.settled(job.jid)) ?? s);
  const holder = job.attachable ? await reconnectHolder(ioDir, job.jid) : undefined;
  const exited = holder ? holder.exited.then((s) => s ?? watched()) : watched();
  return holder ? { pid: state.pid, exited, stdio: holder.stdio, holder } : { pid: state.pid, exited };
}
