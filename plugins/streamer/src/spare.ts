/**
 * Streamer processes (main.ts), with one spare started ahead of time. Starting one
 * (Node and the streamer's modules) takes ~80 ms on a 2-core machine, a tenth of a
 * streamed 1 GiB dump, and a dump or restore would wait for it. So once a dump or
 * restore with streams is over, a spare is started; it waits, modules loaded and
 * doing nothing (~40 MiB), for the next one's job on its stdin, and is stopped after
 * SPARE_IDLE_MS unused. It is started only after the operation, never competing with
 * one for CPU, and it ends with the daemon (its stdin closes; a working one is killed: parent-death.ts).
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawnClean } from '@cedana/plugin-sdk';
import { dyingWithDaemon } from './parent-death.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
/** How long an unused spare is kept. */
export const SPARE_IDLE_MS = 10 * 60_000;
/** libuv's pool does the blocking reads of CRIU's pipes (several are open at once), the
 * writes into them on restore and the shard writes: 16 threads more than streams. A spare
 * is sized for up to SPARE_STREAMS; more streams get a process of their own. */
const SPARE_STREAMS = 8;
const threadsFor = (streams: number) => 16 + streams;

let spare: { child: ChildProcessWithoutNullStreams; addonPath: string; timer: NodeJS.Timeout } | undefined;

function spawnStreamer(addonPath: string, streams: number): ChildProcessWithoutNullStreams {
  const [command, args] = dyingWithDaemon(process.execPath, [MAIN, addonPath]);
  return spawnClean(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, UV_THREADPOOL_SIZE: String(threadsFor(streams)) },
  });
}

const alive = (child: ChildProcessWithoutNullStreams) => child.exitCode === null && child.signalCode === null;

/** Whether `child` and its pipes keep the daemon's event loop alive (an idle spare must not). */
function hold(child: ChildProcessWithoutNullStreams, on: boolean): void {
  // A child's pipes are sockets, which can be (un)referenced like the child.
  const pipes = [child.stdin, child.stdout, child.stderr] as unknown as Socket[];
  for (const handle of [child, ...pipes]) {
    if (on) handle.ref();
    else handle.unref();
  }
}

/** A streamer for `streams` streams that waits for its job on stdin: the spare when it fits, else a new one. */
export function takeStreamer(addonPath: string, streams: number): ChildProcessWithoutNullStreams {
  const taken = spare;
  spare = undefined;
  if (taken) clearTimeout(taken.timer);
  if (taken && alive(taken.child) && taken.addonPath === addonPath && streams <= SPARE_STREAMS) {
    hold(taken.child, true);
    return taken.child;
  }
  taken?.child.kill('SIGKILL');
  return spawnStreamer(addonPath, streams);
}

/** Starts a spare unless one is waiting already. */
export function prepareSpare(addonPath: string): void {
  if (spare && alive(spare.child)) return;
  const child = spawnStreamer(addonPath, SPARE_STREAMS);
  child.on('error', () => {}); // a spare that cannot start: the next operation spawns its own
  child.stdin.on('error', () => {});
  child.on('exit', () => {
    if (spare?.child === child) spare = undefined;
  });
  child.stdout.resume(); // a spare says nothing before its job; nothing must fill its pipe either
  child.stderr.resume();
  hold(child, false);
  const timer = setTimeout(() => child.kill('SIGKILL'), SPARE_IDLE_MS);
  timer.unref();
  spare = { child, addonPath, timer };
}
