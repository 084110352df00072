/**
 * The streamer process: `node main.js ADDON`, started ahead of its job (spare.ts), which
 * comes as the first line of its stdin: {"mode":"capture"|"serve","dir":DIR,"streams":N}.
 * Its stdin closing before that ends it quietly. It runs beside CRIU for one dump or
 * restore and reports on stdout, one JSON object per line:
 *   {"event":"listening"}                           CRIU may start now
 *   {"event":"progress","done":N,"total":N}         raw image bytes (total 0 when unknown)
 *   {"event":"done","stats":{...}}                  every image is written / served
 *   {"event":"error","message":"...","damaged":bool}
 *   {"event":"want","file":"img-0.lz4","start":N,"end":N}   (arriving shards) CRIU waits for these bytes
 * A serving streamer goes on until its stdin closes (the restore may run CRIU more than once).
 * With "arriving":true its shards are still being downloaded: the lines after the job say
 * which ranges are present, or that the download failed (arrivals.ts).
 * It is a process of its own so that the daemon's memory and event loop stay out of
 * the data path, and so that a streamer that dies is just a child that exited.
 */

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type ArrivalMessage, Arrivals } from './arrivals.js';
import { capture, type StreamStats } from './capture.js';
import { DamagedChunk } from './chunk.js';
import { prewarm } from './codec-pool.js';
import { serve } from './serve.js';

/** Codec workers started while waiting for a job: one per stream of the usual --streams 2. */
const PREWARMED_CODECS = 2;

export type StreamerEvent =
  | { event: 'listening' }
  | { event: 'progress'; done: number; total: number }
  | { event: 'done'; stats: StreamStats }
  | { event: 'error'; message: string; damaged: boolean }
  | { event: 'want'; file: string; start: number; end: number };

const emit = (e: StreamerEvent) => process.stdout.write(`${JSON.stringify(e)}\n`);

/** At most ~10 progress lines a second. */
function throttled(fn: (done: number, total: number) => void): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    fn(done, total);
  };
}

export interface StreamerJob {
  mode: 'capture' | 'serve';
  dir: string;
  streams: number;
  /** serve: the shards are still arriving (see arrivals.ts). */
  arriving?: boolean;
  /** capture: the shards are FIFOs made by the daemon, which uploads what is written into them. */
  piped?: boolean;
}

/** stdin, line by line: the job first, then (serving arriving shards) ArrivalMessages; `ended` once it closes. */
function readStdin(): { job: Promise<StreamerJob | undefined>; later(fn: (m: ArrivalMessage) => void): void; ended: Promise<void> } {
  const lines = createInterface({ input: process.stdin });
  const held: ArrivalMessage[] = [];
  let onMessage: ((m: ArrivalMessage) => void) | undefined;
  let onJob: ((job: StreamerJob | undefined) => void) | undefined;
  let onBadJob: (err: unknown) => void = () => {};
  const job = new Promise<StreamerJob | undefined>((resolve, reject) => {
    onJob = resolve;
    onBadJob = reject;
  });
  const ended = new Promise<void>((resolve) => lines.on('close', resolve));
  ended.then(() => onJob?.(undefined));
  lines.on('line', (line) => {
    if (onJob) {
      const give = onJob;
      onJob = undefined;
      try {
        give(parseJob(line));
      } catch (err) {
        onBadJob(err);
      }
      return;
    }
    let m: ArrivalMessage;
    try {
      m = JSON.parse(line) as ArrivalMessage;
    } catch {
      return;
    }
    if (onMessage) onMessage(m);
    else held.push(m);
  });
  return {
    job,
    ended,
    later(fn) {
      onMessage = fn;
      for (const m of held.splice(0)) fn(m);
    },
  };
}

function parseJob(line: string): StreamerJob {
  const job = JSON.parse(line) as Partial<StreamerJob>;
  const { mode, dir, streams, arriving, piped } = job;
  if ((mode !== 'capture' && mode !== 'serve') || !dir || !Number.isInteger(streams) || (streams as number) < 1) {
    throw new Error(`a streamer job is {"mode":"capture"|"serve","dir":DIR,"streams":N[,"arriving":true][,"piped":true]}, got ${line}`);
  }
  return { mode, dir, streams: streams as number, arriving: arriving === true, piped: piped === true };
}

/**
 * This process's peak resident memory, in bytes: VmHWM, of its own memory since exec. Not
 * getrusage's maxRSS: that one survives exec, so it starts at the daemon's resident size
 * when the daemon forked it (a daemon at 270 MiB made a streamer "use" 270 MiB).
 */
function peakRss(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024 || process.resourceUsage().maxRSS * 1024;
}

async function main(argv: string[]): Promise<void> {
  const [addonPath] = argv;
  if (!addonPath) throw new Error(`usage: main.js ADDON (got ${argv.join(' ')})`);
  process.title = 'cedana-streamer standby';
  prewarm(addonPath, PREWARMED_CODECS);
  const stdin = readStdin();
  const job = await stdin.job;
  if (!job) return; // the daemon went away, or dropped its spare
  const { mode, dir, streams, piped } = job;
  let arrivals: Arrivals | undefined;
  if (job.arriving && mode === 'serve') {
    arrivals = new Arrivals(streams, (file, start, end) => emit({ event: 'want', file, start, end }));
    stdin.later((m) => arrivals?.take(m));
  }
  process.title = `cedana-streamer ${mode} ${dir}`;
  const onListening = () => emit({ event: 'listening' });
  const stats =
    mode === 'capture'
      ? await capture({
          dir,
          streams,
          piped,
          addonPath,
          onListening,
          onProgress: throttled((done) => emit({ event: 'progress', done, total: 0 })),
        })
      : await serve({
          dir,
          streams,
          addonPath,
          onListening,
          onProgress: throttled((done, total) => emit({ event: 'progress', done, total })),
          stopped: stdin.ended,
          arrivals,
        });
  emit({ event: 'done', stats: { ...stats, peakRssBytes: peakRss() } });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: Error) => {
    emit({ event: 'error', message: err.message, damaged: err instanceof DamagedChunk });
    process.exit(1);
  },
);
