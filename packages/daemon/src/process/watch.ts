/**
 * Watches a process the daemon did not spawn (a managed PID, or a job found alive
 * after a daemon restart): Node gets no exit event for it, so poll /proc.
 * Its exit code cannot be known.
 */
import { type ExitStatus, type Started, untilGone } from '@cedana/core';

/** A Started for a live PID; `startTime` guards against the PID being reused. */
export function watchProcess(pid: number, startTime: number | undefined): Started {
  const exited: Promise<ExitStatus> = untilGone(pid, startTime).then(() => ({ code: null, signal: null }));
  return { pid, exited };
}
