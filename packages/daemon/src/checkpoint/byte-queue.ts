/**
 * A FIFO of byte chunks that can read a few bytes at any offset and take a whole
 * piece off the front with at most one copy. The LZ4 streams use it to cut input
 * that arrives in arbitrary chunks into frames and pieces.
 */
export class ByteQueue {
  #chunks: Buffer[] = [];
  /** Bytes already consumed from the front of `#chunks[0]`. */
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** A copy of `n` bytes starting `offset` bytes from the front, or undefined if not all there yet. */
  peek(offset: number, n: number): Buffer | undefined {
    if (offset + n > this.#length) return undefined;
    const out = Buffer.allocUnsafe(n);
    let skip = offset + this.#head;
    let filled = 0;
    for (const chunk of this.#chunks) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      filled += chunk.copy(out, filled, skip, Math.min(chunk.length, skip + n - filled));
      skip = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** The little-endian uint32 at `offset`, or undefined if not all there yet. */
  peekUInt32LE(offset: number): number | undefined {
    return this.peek(offset, 4)?.readUInt32LE(0);
  }

  /** Removes and returns the first `n` bytes (n <= length); no copy when they sit in one chunk. */
  take(n: number): Buffer {
    if (n > this.#length) throw new RangeError(`take(${n}) from a queue of ${this.#length} bytes`);
    const first = this.#chunks[0];
    if (first !== undefined && first.length - this.#head >= n) {
      const out = first.subarray(this.#head, this.#head + n);
      this.drop(n);
      return out;
    }
    const out = this.peek(0, n) ?? Buffer.alloc(0);
    this.drop(n);
    return out;
  }

  /** Removes the first `n` bytes (at most length). */
  drop(n: number): void {
    let left = Math.min(n, this.#length);
    this.#length -= left;
    while (left > 0) {
      const first = this.#chunks[0];
      if (first === undefined) break;
      const avail = first.length - this.#head;
      if (avail > left) {
        this.#head += left;
        return;
      }
      left -= avail;
      this.#chunks.shift();
      this.#head = 0;
    }
  }
}
