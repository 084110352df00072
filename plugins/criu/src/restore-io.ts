/**
 * Reconnecting an attachable job's pipes at restore. The checkpoint names each pipe by
 * CRIU's key (`pipe:[4711]`); the restore shim makes a fresh anonymous pipe for each,
 * hands one end to criu (`--inherit-fd fd[N]:pipe:[4711]`) and the daemon opens the
 * other end through /proc/SHIM_PID/fd/M, so the daemon holds a real pipe, as the job did.
 *
 * Node's own `stdio: 'pipe'` cannot serve: it makes unix socket pairs, and CRIU cannot
 * dump a stream socket whose peer is outside the dumped tree, nor reopen a socket where
 * the image has a pipe.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { CedanaError, type RestoreIo } from '@cedana/plugin-sdk';

/** One pipe to reconnect. */
export interface PipeSpec {
  stream: keyof RestoreIo;
  /** The fd criu receives it on (and names in --inherit-fd). */
  fd: number;
  /** 'in': the job reads (stdin); 'out': the job writes. */
  direction: 'in' | 'out';
  /** CRIU's key, e.g. `pipe:[4711]`. */
  key: string;
}

/** The streams the daemon holds after a restore. */
export type RestoredStdio = { stdin?: Writable; stdout?: Readable; stderr?: Readable };

const STREAMS = [
  ['stdin', 3, 'in'],
  ['stdout', 4, 'out'],
  ['stderr', 5, 'out'],
] as const;
const PIPE_KEY = /^pipe:\[\d+\]$/;

/**
 * The pipes to make for `io`, one per distinct key (a job whose stderr is its stdout
 * pipe gets one pipe, returned as stdout only).
 * @throws CedanaError CEDANA_ERR_INVALID_ARGUMENT for a key that is not `pipe:[INODE]`
 */
export function pipePlan(io: RestoreIo | undefined): PipeSpec[] {
  const plan: PipeSpec[] = [];
  for (const [stream, fd, direction] of STREAMS) {
    const key = io?.[stream];
    if (!key) continue;
    if (!PIPE_KEY.test(key)) {
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        `the ${stream} of the job to restore is "${key}"; expected a pipe key like "pipe:[4711]" (only pipes can be reconnected)`,
        { hint: 'start attachable jobs with real pipes (not unix sockets) on stdin, stdout and stderr, and dump them again' },
      );
    }
    if (!plan.some((p) => p.key === key)) plan.push({ stream, fd, direction, key });
  }
  return plan;
}

/** `--inherit-fd fd[N]:KEY` for every pipe, for criu. */
export function inheritFdArgs(plan: PipeSpec[]): string[] {
  return plan.flatMap((p) => ['--inherit-fd', `fd[${p.fd}]:${p.key}`]);
}

/** `--pipe FD:in|out` for every pipe, for the shim. */
export function shimPipeArgs(plan: PipeSpec[]): string[] {
  return plan.flatMap((p) => ['--pipe', `${p.fd}:${p.direction}`]);
}

/**
 * Opens the daemon's end of each pipe through /proc/SHIM_PID/fd/N (`fds` maps criu's fd
 * to the shim's fd of the other end, as the shim reported them). All or nothing: on a
 * failure the ends opened so far are closed and the error is thrown.
 */
export function openDaemonEnds(shimPid: number, fds: Record<string, number>, plan: PipeSpec[]): RestoredStdio {
  const opened: { spec: PipeSpec; fd: number }[] = [];
  try {
    for (const spec of plan) {
      const theirs = fds[String(spec.fd)];
      if (theirs === undefined) throw new Error(`the restore shim reported no pipe for fd ${spec.fd}`);
      const flags = (spec.direction === 'in' ? constants.O_WRONLY : constants.O_RDONLY) | constants.O_NONBLOCK;
      opened.push({ spec, fd: openSync(`/proc/${shimPid}/fd/${theirs}`, flags) });
    }
  } catch (err) {
    for (const o of opened) closeSync(o.fd);
    throw err;
  }
  const stdio: RestoredStdio = {};
  for (const { spec, fd } of opened) {
    const socket = new Socket({ fd, readable: spec.direction === 'out', writable: spec.direction === 'in' });
    if (spec.stream === 'stdin') stdio.stdin = socket;
    else stdio[spec.stream] = socket;
  }
  return stdio;
}

/** Closes every stream of `stdio` (after a failed attempt). */
export function destroyStdio(stdio: RestoredStdio | undefined): void {
  for (const s of [stdio?.stdin, stdio?.stdout, stdio?.stderr]) s?.destroy();
}
