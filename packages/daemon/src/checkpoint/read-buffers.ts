/**
 * The packer's read buffers, reused once the stage that consumed a chunk gives it back.
 * A fresh 4 MiB Buffer per read is garbage a moment later, and V8 collects Buffers only
 * when their small heap objects are collected, which it starts once ~64 MiB of outside
 * memory has piled up since its last collection: packing 1 GiB held ~60 MiB more than it
 * used. With the encoders giving chunks back (lz4-stream.ts, zstd-stream.ts), a pack reads
 * into the same few buffers.
 *
 * A chunk is given back only by the stage that is its last holder: the tar stream's
 * reader takes a buffer again only after the file's hash has copied the chunk it read
 * before (tar-pack.ts awaits that), the progress stage only counts, and a plain tar pack,
 * whose chunks the file sink holds until written, gives nothing back (its reads allocate
 * as before).
 */
const KEEP = 4;

export class ReadBuffers {
  readonly #free: Buffer[] = [];
  /** Each chunk handed out, to the whole buffer it was read into. */
  readonly #owner = new WeakMap<Buffer, Buffer>();

  constructor(readonly bytes: number) {}

  /** A buffer of `bytes`: a given-back one, or a new one. */
  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.bytes);
  }

  /** Records that `chunk` (the buffer or its start) was read into `buffer`, so that giving it back frees `buffer`. */
  handOut(chunk: Buffer, buffer: Buffer): Buffer {
    this.#owner.set(chunk, buffer);
    return chunk;
  }

  /** Gives back a chunk its last holder is done with; anything else is ignored. */
  giveBack(chunk: Buffer): void {
    const buffer = this.#owner.get(chunk);
    if (buffer === undefined) return;
    this.#owner.delete(chunk);
    if (this.#free.length < KEEP) this.#free.push(buffer);
  }
}
