/**
 * Gives a streamer process (main.ts; the spare when there is one, spare.ts) its job for
 * one dump or restore and follows its events. `ready` settles once CRIU may connect;
 * `done` with the stats, or with the reason it failed or died.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type ArrivingImages, CedanaError } from '@cedana/plugin-sdk';
import type { ArrivalMessage } from './arrivals.js';
import type { StreamStats } from './capture.js';
import type { StreamerEvent, StreamerJob } from './main.js';
import { prepareSpare, takeStreamer } from './spare.js';

/** A spare for the next operation is started this long after one ends (once its request is answered). */
const SPARE_DELAY_MS = 1000;

export interface StreamerRun {
  pid: number;
  ready: Promise<void>;
  done: Promise<StreamStats>;
  /** Tells a serving streamer that CRIU is done (a capturing one ends by itself). */
  stop(): void;
  kill(): void;
}

/** How `done` rejects when the caller stopped the streamer itself (CRIU failed first). */
export class StreamerStopped extends Error {}

export function startStreamer(
  mode: 'capture' | 'serve',
  dir: string,
  streams: number,
  addonPath: string,
  onProgress?: (done: number, total: number) => void,
  /** serve: shards still arriving (remote storage); capture: shards that are FIFOs the daemon uploads from. */
  { arriving, piped = false }: { arriving?: ArrivingImages | undefined; piped?: boolean } = {},
): StreamerRun {
  const child = takeStreamer(addonPath, streams);
  const job: StreamerJob = { mode, dir, streams, ...(arriving && { arriving: true }), ...(piped && { piped }) };
  child.stdin.write(`${JSON.stringify(job)}\n`);
  // Shards still downloading: what is present (and a failure) goes down stdin, what CRIU waits for comes back.
  const tell = (m: ArrivalMessage) => {
    if (child.stdin.writable) child.stdin.write(`${JSON.stringify(m)}\n`);
  };
  arriving?.follow({
    present: (file, start, end) => tell({ present: [file, start, end] }),
    failed: (err) => tell({ failed: err.message }),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  let result: StreamerEvent | undefined;
  let stopping = false;
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  let settle: (e: StreamerEvent) => void = () => {};
  createInterface({ input: child.stdout }).on('line', (line) => {
    let e: StreamerEvent;
    try {
      e = JSON.parse(line) as StreamerEvent;
    } catch {
      return;
    }
    if (e.event === 'listening') onReady();
    else if (e.event === 'progress') onProgress?.(e.done, e.total);
    else if (e.event === 'want') arriving?.want(e.file, e.start, e.end);
    else settle(e);
  });
  // Settles on the streamer's last word ("done" or "error"), without waiting for its exit;
  // on its exit when it died without one.
  const done = new Promise<StreamStats>((resolve, reject) => {
    settle = (e) => {
      result ??= e;
      if (e.event === 'done') return resolve(e.stats);
      if (e.event === 'error') {
        const code = e.damaged ? 'CEDANA_ERR_CHECKPOINT_INVALID' : 'CEDANA_ERR_STREAMER_FAILED';
        reject(new CedanaError(code, `streamer (${mode}): ${e.message}`));
      }
    };
    child.on('error', (err) => reject(failure(`cannot start the streamer: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (result) return;
      if (stopping) return reject(new StreamerStopped('the streamer was stopped'));
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(failure(`the streamer (${mode}, PID ${child.pid}) ${how} before it finished`, stderr));
    });
  });
  done.catch(() => {}); // awaited by the caller; a failure before that must not go unhandled
  const spareLater = () => setTimeout(() => prepareSpare(addonPath), SPARE_DELAY_MS).unref();
  child.on('close', spareLater);
  // A streamer that dies before listening must not leave the caller waiting for `ready`.
  const readyOrDead = Promise.race([ready, done.then(() => {})]);
  child.stdin.on('error', () => {}); // a streamer that died: its exit says why
  return {
    stop: () => child.stdin.end(),
    pid: child.pid ?? 0,
    ready: readyOrDead,
    done,
    kill: () => {
      if (child.exitCode !== null || child.signalCode !== null || isZombie(child.pid)) return;
      stopping = true;
      child.kill('SIGKILL');
    },
  };
}

function failure(message: string, stderr = ''): CedanaError {
  const details = stderr.trim() ? stderr.trim().split('\n').slice(-10) : [];
  return new CedanaError('CEDANA_ERR_STREAMER_FAILED', message, { details });
}

/** Dead but not yet reaped: it died on its own, whatever the caller does now. */
function isZombie(pid: number | undefined): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
  } catch {
    return true;
  }
}
