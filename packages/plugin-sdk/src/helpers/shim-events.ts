/**
 * The event lines of a shim: a small program (e.g. a perl script) that starts a job's
 * process for the daemon, reaps it, and reports on its stdout one JSON object a line,
 * `{"event":"started","pid":N}`, `{"event":"exited","code":N}` or `{"event":"exited","signal":N}`.
 * The criu plugin's restore shim and the runc plugin's shim speak it.
 */
import { type ExitStatus, signalName } from '@cedana/core';

/** One event line; which events and fields a shim sends is its own (see its header). */
export interface ShimEvent<E extends string = string> {
  event: E;
  /** `pipes`: the shim's fd numbers of the job's pipe ends, by the job's fd ("0", "1", "2"). */
  fds?: Record<string, number>;
  pid?: number;
  /** Whether the shim reaps the process (0: it cannot, watch the PID instead). */
  reaper?: number;
  /** `failed`: the exit code of the program the shim ran. */
  exit?: number;
  /** `exited`: the process's exit code, or the number of the signal that ended it. */
  code?: number;
  signal?: number;
  unknown?: boolean;
  reason?: string;
}

/** The event on `line`, or undefined when the line is not a JSON object with an `event` string. */
export function parseShimEvent<E extends string = string>(line: string): ShimEvent<E> | undefined {
  try {
    const ev = JSON.parse(line) as ShimEvent<E>;
    return typeof ev === 'object' && ev !== null && typeof ev.event === 'string' ? ev : undefined;
  } catch {
    return undefined;
  }
}

/** The exit status an `exited` event reports (neither code nor signal: unknown). */
export function shimExitStatus(ev: ShimEvent): ExitStatus {
  if (typeof ev.signal === 'number') return { code: null, signal: signalName(ev.signal) };
  if (typeof ev.code === 'number') return { code: ev.code, signal: null };
  return { code: null, signal: null };
}
