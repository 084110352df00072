/**
 * A pre-copy's files on the data connection (data-link.ts): each frame is a 4-byte length, a
 * MigrateFrame (which file, how many bytes), then those bytes raw, read from the file straight
 * into the socket. The reader hands the bytes to the sink as they arrive, slices of what the
 * socket read (no copy, no per-message decoding), and stops reading while the sink is full.
 */
import { createReadStream } from 'node:fs';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { MigrateFrame } from '@cedana/core/proto';

/** Where the reader's bytes go (migrate-in.ts's incoming files). */
export interface FrameSink {
  /** The next bytes of a file; false when the caller should wait for `drained` before more. */
  write(frame: MigrateFrame, data: Buffer): boolean;
  drained(): Promise<void>;
}

const LEN = 4;

/** The source's side of the files channel. */
export class FrameWriter {
  constructor(private readonly socket: Socket) {}

  /** Bytes [from, to) of `file` as `frame`'s file. */
  async range(file: string, frame: Omit<MigrateFrame, 'size' | 'done'>, from: number, to: number): Promise<void> {
    await this.head({ ...frame, size: to - from, done: false });
    if (to > from)
      await pipeline(createReadStream(file, { start: from, end: to - 1, highWaterMark: 1 << 20 }), this.socket, { end: false });
  }

  /** The last frame: everything was sent. Resolves once the socket took it. */
  async done(): Promise<void> {
    await this.head({ name: '', jobLog: false, mode: 0, size: 0, done: true });
    await new Promise<void>((resolve, reject) => this.socket.end((err?: Error) => (err ? reject(err) : resolve())));
  }

  private head(f: MigrateFrame): Promise<void> {
    const body = MigrateFrame.encode(f).finish();
    const b = Buffer.allocUnsafe(LEN + body.length);
    b.writeUInt32BE(body.length, 0);
    b.set(body, LEN);
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) return reject(new Error('the data connection to the target closed'));
      if (this.socket.write(b)) resolve();
      else {
        const closed = () => reject(new Error('the data connection to the target closed'));
        this.socket.once('close', closed);
        this.socket.once('drain', () => {
          this.socket.off('close', closed);
          resolve();
        });
      }
    });
  }
}

/** The target's side: reads frames into `sink` until the `done` frame; fails if the socket ends or breaks before it. */
export function readFrames(socket: Socket, sink: FrameSink): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending: Buffer = Buffer.alloc(0); // a length or frame head split across reads
    let frame: MigrateFrame | undefined;
    let left = 0; // bytes of `frame`'s data still to come
    let over = false;
    const finish = (err?: Error) => {
      if (over) return;
      over = true;
      socket.off('data', onData);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve();
    };
    const onData = (chunk: Buffer) => {
      try {
        let b: Buffer = chunk;
        while (b.length > 0 && !over) {
          if (frame && left > 0) {
            const n = Math.min(left, b.length);
            left -= n;
            const more = sink.write(frame, b.subarray(0, n));
            b = b.subarray(n);
            if (left === 0) frame = undefined;
            if (!more) {
              socket.pause();
              sink.drained().then(
                () => socket.resume(),
                (err: Error) => finish(err),
              );
              if (b.length > 0) socket.unshift(b);
              return;
            }
            continue;
          }
          pending = pending.length ? Buffer.concat([pending, b]) : b;
          b = Buffer.alloc(0);
          if (pending.length < LEN) break;
          const len = pending.readUInt32BE(0);
          if (len > 4096) throw new Error(`a frame head of ${len} bytes: not a cedana data connection`);
          if (pending.length < LEN + len) break;
          const f = MigrateFrame.decode(pending.subarray(LEN, LEN + len));
          b = pending.subarray(LEN + len);
          pending = Buffer.alloc(0);
          if (f.done) return finish();
          frame = f;
          left = Number(f.size);
          // An empty file is one frame of no bytes: the sink still makes it.
          if (left === 0) {
            sink.write(f, Buffer.alloc(0));
            frame = undefined;
          }
        }
      } catch (err) {
        finish(err as Error);
      }
    };
    socket.on('data', onData);
    socket.once('end', () => finish(new Error('the source closed the data connection before the end of the checkpoint')));
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error('the data connection from the source closed before the end of the checkpoint')));
    socket.resume();
  });
}
