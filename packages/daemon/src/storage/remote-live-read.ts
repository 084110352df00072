/**
 * A FIFO read into its upload (remote-live.ts). When the storage lends its part buffers
 * (ObjectUpload.parts), the pipe is read straight into the part being filled: no chunk
 * is allocated per read and none is copied, so the daemon's memory is the upload's pool
 * and nothing waits for the GC. When every part is in flight the reader stops reading
 * (the pipe fills, its writer waits) until one comes back. Otherwise it is piped into the
 * upload's stream.
 */
import { Socket } from 'node:net';
import { finished, pipeline } from 'node:stream/promises';
import type { ObjectUpload, PartBuffers } from '@cedana/core';

/** The one read made while paused lands here (the reader's buffer is only changed by a read): copied into the next part. */
const SCRATCH_BYTES = 64 << 10;

export function readInto(fd: number, upload: ObjectUpload): { reader: Socket; done: Promise<void> } {
  const parts = upload.parts;
  if (!parts) {
    const reader = new Socket({ fd, readable: true, writable: false });
    return { reader, done: pipeline(reader, upload.stream) };
  }
  const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  let failed: ((err: unknown) => void) | undefined;
  const options = {
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: () => parts.space() ?? scratch,
      callback(n: number, buf: Uint8Array): boolean {
        try {
          if (buf === scratch) copyIn(parts, scratch.subarray(0, n));
          else parts.commit(n);
        } catch (err) {
          failed?.(err);
          return false;
        }
        if (parts.space()) return true;
        parts.ready().then(
          () => reader.resume(),
          () => {}, // the upload failed: its stream says why
        );
        return false;
      },
    },
  };
  // `onread` (Node's own, since v12) is missing from @types/node's constructor options.
  const reader: Socket = new Socket(options as ConstructorParameters<typeof Socket>[0]);
  const done = new Promise<void>((resolve, reject) => {
    failed = (err: unknown) => {
      reader.destroy();
      reject(err);
    };
    upload.stream.once('error', failed);
    reader.once('error', failed);
    reader.once('close', () => {
      if (!reader.readableEnded)
        reject(Object.assign(new Error('the pipe was closed before its end'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    });
    reader.once('end', () => {
      upload.stream.end();
      finished(upload.stream).then(resolve, reject);
    });
  });
  // Flowing, so its end is heard ('data' never comes: the bytes went into the parts).
  reader.resume();
  return { reader, done };
}

function copyIn(parts: PartBuffers, bytes: Buffer): void {
  let at = 0;
  while (at < bytes.length) {
    const room = parts.space();
    // The scratch is read into only after a pause, which ends when a whole part is free.
    if (!room) throw new Error('no part buffer free for the bytes read while paused');
    const n = bytes.copy(room, 0, at);
    parts.commit(n);
    at += n;
  }
}
