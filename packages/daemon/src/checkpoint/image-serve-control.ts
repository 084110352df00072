/**
 * CRIU's side of --stream on restore (criu/img-streamer.c), on a worker thread because
 * every call blocks. CRIU connects to `streamer-serve.sock` in its images folder and, for
 * each image it opens, sends a request (a u32 length and an img_streamer_request_entry
 * protobuf: field 1, the file name); the answer says whether the image exists
 * (img_streamer_reply_entry: field 1, bool); then CRIU sends the write end of a fresh pipe
 * with SCM_RIGHTS, and reads the image from its read end. Closing the
 * connection means no more images will be opened. One CRIU run after another is served
 * (a restore runs CRIU again while the kernel still holds the checkpoint's PID).
 */
import { readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { type FdPass, loadAddon } from '@cedana/plugin-sdk/native';

/** The name CRIU 4 gives the socket of a restore's image server, in its images folder. */
export const SERVE_SOCKET = 'streamer-serve.sock';

export interface ControlData {
  listenFd: number;
  addonPath: string;
  /** The images there are (every other request is answered "missing"). */
  images: string[];
}

export type ControlEvent =
  | { type: 'connected'; fd: number }
  | { type: 'open'; name: string; fd: number }
  | { type: 'end' }
  | { type: 'error'; message: string };

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

function converse(addon: FdPass, conn: number, images: Set<string>, post: (e: ControlEvent) => void): void {
  for (;;) {
    const head = readExactly(conn, 4); // undefined at CRIU's end, or once stopControl shut the socket
    if (!head) break;
    const name = requestName(readExactly(conn, head.readUInt32LE(0)) ?? Buffer.alloc(0));
    const exists = images.has(name);
    writeSync(conn, replyFrame(exists));
    if (!exists) continue;
    const fd = addon.recvFd(conn);
    if (fd < 0) throw new Error(`CRIU closed the stream socket before sending the pipe of ${name}`);
    post({ type: 'open', name, fd });
  }
  post({ type: 'end' });
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
  for (const fd of fds) addon.shutdown(fd);
}
