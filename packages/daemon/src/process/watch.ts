/**
 * Watches a process the daemon did not spawn (a managed PID, or a job found alive
 * after a daemon restart): Node gets no exit event for it, so poll /proc.
 * Its exit code cannot be known.
 */
import type { ExitStatus, Started } from '@cedana/core';
import { processStartTime } from './proc.js';

const POLL_MS = 250;

/** A Started for a live PID; `startTime` guards against the PID being reused. */
export function watchProcess(pid: number, startTime: number | undefined): Started {
  const exited = new Promise<ExitStatus>((resolve) => {
    const timer = setInterval(async () => {
      const now = await processStartTime(pid);
      if (now === undefined || (startTime !== undefined && now !== startTime)) {
        clearInterval(timer);
        resolve({ code: null, signal: null });
      }
    }, POLL_MS);
    timer.unref();
  });
  return { pid, exited };
}
