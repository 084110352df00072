/**
 * The end of a container's task. containerd's Tasks.Wait gives its exit status; when the
 * call fails (containerd restarted, the daemon lost the connection), /proc is polled
 * until the PID is gone, guarded against PID reuse by its start time.
 */
import { readFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import type { ExitStatus } from '@cedana/plugin-sdk';

export const POLL_MS = 250;

async function statFields(pid: number): Promise<string[] | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
}

/** Start time in clock ticks since boot, or undefined when there is no such process. */
export async function processStartTime(pid: number): Promise<number | undefined> {
  const ticks = (await statFields(pid))?.[19];
  return ticks === undefined ? undefined : Number(ticks);
}

/** True while the process runs; a zombie has ended. */
export async function isLive(pid: number): Promise<boolean> {
  const state = (await statFields(pid))?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Resolves once `pid` is gone, a zombie, or reused by another process. */
export async function untilGone(pid: number, startTime: number | undefined): Promise<void> {
  for (;;) {
    const now = await processStartTime(pid);
    if (now === undefined || (startTime !== undefined && now !== startTime) || !(await isLive(pid))) return;
    await new Promise((r) => setTimeout(r, POLL_MS).unref());
  }
}

/** containerd's exit status (the shim reports 128+N for a process killed by signal N) as code or signal. */
export function exitStatusOf(status: number): ExitStatus {
  if (status > 128 && status < 128 + 65) {
    const signo = status - 128;
    const entry = Object.entries(osConstants.signals).find(([, n]) => n === signo);
    return { code: null, signal: entry ? entry[0] : `SIG${signo}` };
  }
  return { code: status, signal: null };
}
