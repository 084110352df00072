/**
 * CRIU's side of --stream for the streamer, on a worker thread because every call blocks:
 * CRIU connects to `streamer-capture.sock` (dump) or `streamer-serve.sock` (restore) in its
 * images folder, and the SDK's converse() (native/criu-stream.ts: the protocol) hands each
 * image's pipe over as an 'open' event.
 */
import { join } from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { type CriuStreamEvent, converse, shutdownAll } from '@cedana/plugin-sdk/native';
import { loadAddon } from './native.js';

export type ControlMode = 'capture' | 'serve';

export interface ControlData {
  /** The socket CRIU connects to, already listening (see listenForCriu). */
  listenFd: number;
  mode: ControlMode;
  addonPath: string;
  /** serve: the images there are. */
  images?: string[];
}

export type ControlEvent = CriuStreamEvent;

export const socketName = (mode: ControlMode): string => (mode === 'capture' ? 'streamer-capture.sock' : 'streamer-serve.sock');

/** Listens where CRIU will connect, on the calling thread: once this returns, CRIU may start. */
export function listenForCriu(addonPath: string, dir: string, mode: ControlMode): number {
  return loadAddon(addonPath).listen(join(dir, socketName(mode)));
}

/**
 * Starts the control worker on `data.listenFd` (this file, on a thread of its own) and
 * hands each of its events to `onEvent`; the worker's own failure comes as an error event.
 */
export function followCriu(data: ControlData, onEvent: (e: ControlEvent) => void): Worker {
  const worker = new Worker(new URL('./control.js', import.meta.url), { workerData: data });
  worker.on('message', onEvent);
  worker.on('error', (err) => onEvent({ type: 'error', message: err.message }));
  return worker;
}

/**
 * Capture: one CRIU run. Serve: one after another until stopped, since a restore may run
 * CRIU again (the criu plugin retries while the kernel still holds the checkpoint's PID).
 */
function control(data: ControlData, post: (e: ControlEvent) => void): void {
  const addon = loadAddon(data.addonPath);
  const images = new Set(data.images ?? []);
  do {
    const conn = addon.accept(data.listenFd);
    post({ type: 'connected', fd: conn });
    converse(addon, conn, data.mode === 'serve' ? images : undefined, post);
  } while (data.mode === 'serve');
}

if (parentPort) {
  const port = parentPort;
  try {
    control(workerData as ControlData, (e) => port.postMessage(e));
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message } satisfies ControlEvent);
  }
}

/**
 * Ends a control worker wherever it blocks (accept, read): a thread blocked in a system
 * call cannot be terminated, and Node waits for every worker before the process exits.
 */
export function stopControl(addonPath: string, fds: number[]): void {
  shutdownAll(loadAddon(addonPath), fds);
}
