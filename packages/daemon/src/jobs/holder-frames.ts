/**
 * The frames spoken on an I/O holder's socket (shim/io-holder.pl): one type byte, a 4-byte
 * big-endian length, the payload. Holder to daemon: 'o' stdout, 'e' stderr, 'x' exit status
 * (JSON); daemon to holder: 'i' stdin, 'c' close stdin, 'q' quit.
 */
export type FrameType = 'o' | 'e' | 'x' | 'i' | 'c' | 'q';

export interface Frame {
  type: FrameType;
  data: Buffer;
}

const HEADER = 5;

export function encodeFrame(type: FrameType, data: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(HEADER);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(data.length, 1);
  return Buffer.concat([header, data]);
}

/** Cuts a byte stream into frames, whatever the chunk boundaries. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** The whole frames that `chunk` completes, in order. */
  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    let at = 0;
    while (this.pending.length - at >= HEADER) {
      const len = this.pending.readUInt32BE(at + 1);
      if (this.pending.length - at < HEADER + len) break;
      const type = String.fromCharCode(this.pending[at] as number) as FrameType;
      frames.push({ type, data: this.pending.subarray(at + HEADER, at + HEADER + len) });
      at += HEADER + len;
    }
    this.pending = this.pending.subarray(at);
    return frames;
  }
}
