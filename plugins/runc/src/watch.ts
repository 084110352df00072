/**
 * Watches a container's init that is not the shim's child (a managed container, or when
 * the shim could not become a subreaper): poll /proc. Its exit code cannot be known.
 */
import type { ExitStatus, Started } from '@cedana/plugin-sdk';
import { isLive, processStartTime } from './proc.js';

export const POLL_MS = 250;

/** Resolves once `pid` is gone or a zombie, or has been reused by another process. */
export async function untilGone(pid: number, startTime: number | undefined, everyMs = POLL_MS): Promise<void> {
  for (;;) {
    const now = await processStartTime(pid);
    if (now === undefined || (startTime !== undefined && now !== startTime) || !(await isLive(pid))) return;
    await new Promise((r) => setTimeout(r, everyMs).unref());
  }
}

/** A Started for a live PID whose exit code nobody can learn. */
export async function watchContainer(pid: number): Promise<Started> {
  const start = await processStartTime(pid);
  const exited: Promise<ExitStatus> = untilGone(pid, start).then(() => ({ code: null, signal: null }));
  return { pid, exited };
}
