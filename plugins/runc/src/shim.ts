/**
 * Starting a container (`runc run -d` / `runc restore -d`) through shim/runc-shim.pl, which
 * then stays with it: the container's init becomes the shim's child (the shim is a child
 * subreaper), so the shim reaps it and reports its exit status; its stdout and stderr are a
 * pipe the shim copies into the job's log, or, for an attachable job, pipes whose other
 * ends the daemon holds. The shim runs in its own session and ignores SIGHUP and SIGPIPE:
 * if the daemon dies, the container keeps running. The protocol is in the shim's header.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type ExitStatus,
  parseShimEvent,
  type ShimEvent,
  type Started,
  shimExitStatus,
  signalName,
  spawnClean,
  untilGone,
} from '@cedana/plugin-sdk';

/** The shim script, shipped in the package's `shim` folder. */
export const SHIM_PATH = fileURLToPath(new URL('../shim/runc-shim.pl', import.meta.url));

export interface ShimStart {
  /** runc and its arguments; `--pid-file pidfile` among them. */
  runc: string[];
  pidfile: string;
  /** The job's log file (stdout and stderr), or the daemon holds the streams (attachable). */
  io: { log: string } | { attach: true };
  /** A command run once the container's init has exited, before the exit is reported. */
  onExit?: string[];
}

/** How a start ended: a running container, or runc's failure (with the shim's own stderr). */
export type ShimOutcome =
  | { kind: 'started'; started: Started }
  | { kind: 'failed'; exit: number | null; signal: string | null; output: string; spawnError?: NodeJS.ErrnoException };

/** An event line of the shim (see the header of shim/runc-shim.pl). */
type RuncShimEvent = ShimEvent<'pipes' | 'started' | 'failed' | 'exited'>;

/** Starts runc through the shim; resolves when the container runs or runc failed. Never rejects. */
export function startThroughShim(opts: ShimStart): Promise<ShimOutcome> {
  const io = 'log' in opts.io ? ['--log', opts.io.log] : ['--attach'];
  const onExit = (opts.onExit ?? []).flatMap((a) => ['--on-exit', a]);
  const shim = spawnClean('perl', [SHIM_PATH, '--pidfile', opts.pidfile, ...io, ...onExit, '--', ...opts.runc], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  shim.stdin.on('error', () => {}); // the shim may be gone before it reads "go"
  if ('log' in opts.io) shim.stdin.end();
  let stderr = '';
  shim.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += c.toString('utf8');
  });
  let reportExit: (s: ExitStatus) => void = () => {};
  const exited = new Promise<ExitStatus>((r) => {
    reportExit = r;
  });

  return new Promise<ShimOutcome>((resolve) => {
    let stdio: Started['stdio'];
    let startedPid: number | undefined;
    let failed: RuncShimEvent | undefined;
    let exitSeen = false;
    let pipeError: string | undefined;

    createInterface({ input: shim.stdout }).on('line', (line) => {
      const ev = parseShimEvent<RuncShimEvent['event']>(line);
      if (!ev) {
        stderr += `unexpected line from the runc shim: ${line}\n`;
      } else if (ev.event === 'pipes' && shim.pid !== undefined) {
        try {
          stdio = openDaemonEnds(shim.pid, ev.fds ?? {});
          shim.stdin.end('go\n');
        } catch (err) {
          pipeError = `cannot open the container's pipes: ${(err as Error).message}`;
          shim.stdin.destroy(); // EOF before "go": the shim exits without running runc
        }
      } else if (ev.event === 'started' && typeof ev.pid === 'number') {
        startedPid = ev.pid;
        if (ev.reaper === 0) void untilGone(ev.pid, undefined).then(() => reportExit({ code: null, signal: null }));
        resolve({ kind: 'started', started: { pid: ev.pid, exited, ...(stdio ? { stdio } : {}) } });
      } else if (ev.event === 'failed') {
        failed = ev;
      } else if (ev.event === 'exited') {
        exitSeen = true;
        reportExit(shimExitStatus(ev));
      }
    });

    shim.on('error', (err: NodeJS.ErrnoException) => {
      resolve({ kind: 'failed', exit: null, signal: null, output: `cannot start perl for the runc shim: ${err.message}`, spawnError: err });
    });
    shim.on('close', (code, signal) => {
      if (startedPid !== undefined) {
        // Reported, or the shim itself was killed: then watch the container until it is gone.
        if (!exitSeen) void untilGone(startedPid, undefined).then(() => reportExit({ code: null, signal: null }));
        return;
      }
      for (const s of [stdio?.stdin, stdio?.stdout, stdio?.stderr]) s?.destroy();
      const output = [stderr.trim(), pipeError, failed?.reason].filter(Boolean).join('\n');
      if (failed) {
        resolve({
          kind: 'failed',
          exit: failed.exit ?? null,
          signal: typeof failed.signal === 'number' ? signalName(failed.signal) : null,
          output,
        });
      } else {
        resolve({
          kind: 'failed',
          exit: code,
          signal,
          output: output || `the runc shim ended (${signal ?? `exit ${code}`}) without a report`,
        });
      }
    });
  });
}

/** The daemon's ends of an attachable container's pipes, opened through /proc/SHIM/fd/N. */
function openDaemonEnds(shimPid: number, fds: Record<string, number>): NonNullable<Started['stdio']> {
  const opened: number[] = [];
  const open = (fd: number | undefined, flags: number) => {
    if (fd === undefined) throw new Error('the shim reported no fd');
    const n = openSync(`/proc/${shimPid}/fd/${fd}`, flags | constants.O_NONBLOCK);
    opened.push(n);
    return n;
  };
  try {
    const stdin = open(fds['0'], constants.O_WRONLY);
    const stdout = open(fds['1'], constants.O_RDONLY);
    const stderr = open(fds['2'], constants.O_RDONLY);
    return {
      stdin: new Socket({ fd: stdin, readable: false, writable: true }),
      stdout: new Socket({ fd: stdout, readable: true, writable: false }),
      stderr: new Socket({ fd: stderr, readable: true, writable: false }),
    };
  } catch (err) {
    for (const n of opened) closeSync(n);
    throw err;
  }
}
