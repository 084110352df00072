/**
 * CRIU's side of --stream on restore, for an archive the daemon serves: on a worker thread
 * because every call blocks. CRIU connects to `streamer-serve.sock` in its images folder;
 * the SDK's converse() (native/criu-stream.ts: the protocol) answers which images exist and
 * hands each pipe over as an 'open' event. One CRIU run after another is served (a restore
 * runs CRIU again while the kernel still holds the checkpoint's PID).
 */
import { join } from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { type CriuStreamEvent, converse, type FdPass, loadAddon, shutdownAll } from '@cedana/plugin-sdk/native';

/** The name CRIU 4 gives the socket of a restore's image server, in its images folder. */
export const SERVE_SOCKET = 'streamer-serve.sock';

export interface ControlData {
  listenFd: number;
  addonPath: string;
  /** The images there are (every other request is answered "missing"). */
  images: string[];
}

export type ControlEvent = CriuStreamEvent;

/** Listens where CRIU will connect, on the calling thread: once this returns, CRIU may start. */
export function listenForCriu(addon: FdPass, dir: string): number {
  return addon.listen(join(dir, SERVE_SOCKET));
}

/** Starts the control worker (this file, on a thread of its own); its own failure comes as an error event. */
export function followCriu(data: ControlData, onEvent: (e: ControlEvent) => void): Worker {
  const worker = new Worker(new URL('./image-serve-control.js', import.meta.url), { workerData: data });
  worker.on('message', onEvent);
  worker.on('error', (err) => onEvent({ type: 'error', message: err.message }));
  return worker;
}

if (parentPort) {
  const port = parentPort;
  const data = workerData as ControlData;
  try {
    const addon = loadAddon<FdPass>(data.addonPath);
    const images = new Set(data.images);
    for (;;) {
      const conn = addon.accept(data.listenFd);
      port.postMessage({ type: 'connected', fd: conn } satisfies ControlEvent);
      converse(addon, conn, images, (e) => port.postMessage(e));
    }
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message } satisfies ControlEvent);
  }
}

/** Ends a control worker wherever it blocks (accept, read): a thread blocked in a system call cannot be terminated. */
export function stopControl(addon: FdPass, fds: number[]): void {
  shutdownAll(addon, fds);
}
