/**
 * CRIU's image streamer protocol (criu/img-streamer.c), the one place it is spoken: the
 * streamer plugin's capture and serve, and the daemon serving an archive, all go through
 * converse(). CRIU connects to a socket in its images folder and, for each image it opens,
 * sends a request (a u32 length and an img_streamer_request_entry protobuf: field 1, the
 * file name). On restore it is answered whether the image exists (img_streamer_reply_entry:
 * field 1, bool). Then CRIU sends one end of a fresh pipe with SCM_RIGHTS: it writes the
 * image into it (dump) or reads it from it (restore). Closing the connection means no more
 * images will be opened. Every call blocks: run it on a worker thread of its own.
 */
import { readSync, writeSync } from 'node:fs';
import type { FdPass } from './index.js';

export type CriuStreamEvent =
  | { type: 'connected'; fd: number }
  | { type: 'open'; name: string; fd: number }
  | { type: 'missing'; name: string }
  | { type: 'end' }
  | { type: 'error'; message: string };

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

/**
 * One CRIU run on connection `conn`: its requests until it closes the connection (or the
 * socket is shut down). `serving`: the images there are, answered on restore; undefined on
 * a dump, where CRIU asks nothing. Each pipe comes as an 'open' event, then 'end'.
 */
export function converse(addon: FdPass, conn: number, serving: Set<string> | undefined, post: (e: CriuStreamEvent) => void): void {
  for (;;) {
    const head = readExactly(conn, 4); // undefined at CRIU's end, or once the socket was shut down
    if (!head) break;
    const name = requestName(readExactly(conn, head.readUInt32LE(0)) ?? Buffer.alloc(0));
    if (serving) {
      const exists = serving.has(name);
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

/** Ends a conversation wherever it blocks (accept, read): a thread blocked in a system call cannot be terminated. */
export function shutdownAll(addon: FdPass, fds: number[]): void {
  for (const fd of fds) addon.shutdown(fd);
}
