/**
 * A pre-copy's files on the data connection (data-link.ts): each frame is a 4-byte length, a
 * MigrateFrame (which file, how many bytes), then those bytes raw, read from the file into the
 * socket 1 MiB at a time. The reader hands the bytes to the sink as they arrive, slices of what the
 * socket read (no copy, no per-message decoding), and stops reading while the sink is full.
 */
import { open } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { MigrateFrame } from '@cedana/core/proto';

/** Where the reader's bytes go (migrate-in.ts's incoming files). */
export interface FrameSink {
  /** The next bytes of a file; false when the caller should wait for `drained` before more. */
  write(frame: MigrateFrame, data: Buffer): boolean;
  drained(): Promise<void>;
}

const LEN = 4;
/** How much of a file is read at a time: the streamer's chunk size. */
const PIECE = 1 << 20;

/** The source's side of the files channel. */
export class FrameWriter {
  constructor(private readonly socket: Socket) {}

  /** Bytes [from, to) of `file` as `frame`'s file. */
  async range(file: string, frame: Omit<MigrateFrame, 'size' | 'done'>, from: number, to: number): Promise<void> {
    await this.head({ ...frame, size: to - from, done: false });
    const fh = await open(file, 'r');
    try {
      for (let off = from; off < to; ) {
        // A buffer of its own each time: the socket holds it until the kernel took it.
        const b = Buffer.allocUnsafe(Math.min(PIECE, to - off));
        const { bytesRead } = await fh.read(b, 0, b.length, off);
        if (bytesRead === 0) throw new Error(`${file} ended at ${off} bytes, before the ${to} it had`);
        off += bytesRead;
        await this.send(b.subarray(0, bytesRead));
      }
    } finally {
      await fh.close();
    }
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
    return this.send(b);
  }

  /** Writes, waiting for room when the socket's buffer is full; fails once the connection closed. */
  private send(b: Buffer): Promise<void> {
    const s = this.socket;
    return new Promise((resolve, reject) => {
      if (s.destroyed) return reject(new Error('the data connection to the target closed'));
      if (s.write(b)) return resolve();
      const closed = () => {
        s.off('drain', drained);
        reject(new Error('the data connection to the target closed'));
      };
      const drained = () => {
        s.off('close', closed);
        resolve();
      };
      s.once('close', closed);
      s.once('drain', drained);
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
