/**
 * CRIU's side of --stream (criu/img-streamer.c), on a worker thread because every call
 * blocks. CRIU connects to `streamer-capture.sock` (dump) or `streamer-serve.sock`
 * (restore) in its images folder and, for each image it opens, sends a request (a u32
 * length and an img_streamer_request_entry protobuf: field 1, the file name). On
 * restore the streamer answers whether the image exists (img_streamer_reply_entry:
 * field 1, bool). Then CRIU sends one end of a fresh pipe with SCM_RIGHTS: it writes the
 * image into it (dump) or reads it from it (restore). Closing the connection means no
 * more images will be opened.
 */
import { readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { type FdPass, loadAddon } from './native.js';

export type ControlMode = 'capture' | 'serve';

export interface ControlData {
  /** The socket CRIU connects to, already listening (see listenForCriu). */
  listenFd: number;
  mode: ControlMode;
  addonPath: string;
  /** serve: the images there are. */
  images?: string[];
}

export type ControlEvent =
  | { type: 'connected'; fd: number }
  | { type: 'open'; name: string; fd: number }
  | { type: 'missing'; name: string }
  | { type: 'end' }
  | { type: 'error'; message: string };

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

/** Decodes an img_streamer_request_entry: the only field is 1, a length-delimited string. */
export function requestName(body: Buffer): string {
  if (body[0] !== 0x0a) throw new Error(`unexpected request from CRIU (first byte ${body[0]})`);
  let len = 0;
  let shift = 0;
  let at = 1;
  for (;;) {
    const b = body[at++];
    if (b === undefined) throw new Error('truncated request from CRIU');
    len |= (b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  return body.toString('utf8', at, at + len);
}

/** An img_streamer_reply_entry, framed as CRIU reads it: u32 length, then field 1 (bool). */
export function replyFrame(exists: boolean): Buffer {
  return Buffer.from([2, 0, 0, 0, 0x08, exists ? 1 : 0]);
}

function readExactly(fd: number, n: number): Buffer | undefined {
  const buf = Buffer.alloc(n);
  let at = 0;
  while (at < n) {
    const got = readSync(fd, buf, at, n - at, null);
    if (got === 0) {
      if (at === 0) return undefined;
      throw new Error(`CRIU closed the stream socket in the middle of a request (${at} of ${n} bytes)`);
    }
    at += got;
  }
  return buf;
}

/** One CRIU run: its requests until it closes the connection. */
function converse(addon: FdPass, conn: number, images: Set<string>, mode: ControlMode, post: (e: ControlEvent) => void): void {
  for (;;) {
    const head = readExactly(conn, 4); // returns at CRIU's end, or when stopControl shut the socket
    if (!head) break;
    const name = requestName(readExactly(conn, head.readUInt32LE(0)) ?? Buffer.alloc(0));
    if (mode === 'serve') {
      const exists = images.has(name);
      writeSync(conn, replyFrame(exists));
      if (!exists) {
        post({ type: 'missing', name });
        continue;
      }
    }
    const fd = addon.recvFd(conn);
    if (fd < 0) throw new Error(`CRIU closed the stream socket before sending the pipe of ${name}`);
    post({ type: 'open', name, fd });
  }
  post({ type: 'end' });
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
    converse(addon, conn, images, data.mode, post);
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
  const addon = loadAddon(addonPath);
  for (const fd of fds) addon.shutdown(fd);
}
