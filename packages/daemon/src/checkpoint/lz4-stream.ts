/**
 * Streaming LZ4 frames with the native codec (native-codec.ts: liblz4's frame API, the
 * code of the `lz4` CLI, shared with the streamer through @cedana/plugin-sdk/native).
 * The encoder writes one frame of independent 4 MiB blocks with a content checksum, as
 * `lz4 -1` does; the decoder reads any LZ4 stream the CLI reads: concatenated frames
 * (the stored head, then the rest: stored-head.ts), skippable frames, linked or
 * independent blocks of any size, and so the frames of archives written before with
 * lz4-napi (a frame per 1 MiB piece).
 *
 * Synchronous calls on the daemon's thread, each on at most one 4 MiB block (~1-4 ms):
 * hashing runs on workers meanwhile (hash-pool.ts) and file I/O on libuv's pool. Memory
 * is one block per context in liblz4 and the buffers here; nothing holds a whole file,
 * and the pipeline's backpressure bounds what is in flight.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CedanaError } from '@cedana/core';
import type { Lz4Codec, Lz4Context } from '@cedana/plugin-sdk/native';
import { lz4Ready } from './native-codec.js';

/** lz4's block size id 7: 4 MiB blocks, as the lz4 CLI writes them by default. */
const BLOCK_SIZE_ID = 7;
const BLOCK_BYTES = 4 << 20;
/** Level 0: lz4's fast mode, the one `lz4 -1` uses. */
const LEVEL = 0;

export interface Lz4EncoderOptions {
  /** Gets each input chunk once it is compressed (read-buffers.ts). */
  giveBack?: ((chunk: Buffer) => void) | undefined;
}

export class Lz4FrameEncoder extends Transform {
  readonly #giveBack: ((chunk: Buffer) => void) | undefined;
  #codec!: Lz4Codec;
  #ctx!: Lz4Context;
  /** Where compressed bytes land before they are copied out at their size; reused. */
  #out = Buffer.alloc(0);
  #begun = false;

  constructor(opts: Lz4EncoderOptions = {}) {
    super();
    this.#giveBack = opts.giveBack;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    lz4Ready().then((codec) => {
      this.#codec = codec;
      // Content checksums make a corrupted archive fail to decode instead of restoring garbage.
      this.#ctx = codec.encoderCreate(LEVEL, BLOCK_SIZE_ID, true);
      callback();
    }, callback);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#begin();
      for (let at = 0; at < chunk.length; at += BLOCK_BYTES) {
        const piece = chunk.subarray(at, at + BLOCK_BYTES);
        this.#emit(this.#codec.encoderUpdate(this.#ctx, piece, this.#room(this.#codec.encoderBound(this.#ctx, piece.length))));
      }
      this.#giveBack?.(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      // An empty input still becomes one (empty) frame, so the output is a valid stream.
      this.#begin();
      this.#emit(this.#codec.encoderEnd(this.#ctx, this.#room(this.#codec.encoderBound(this.#ctx, 0))));
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  #begin(): void {
    if (this.#begun) return;
    this.#begun = true;
    this.#emit(this.#codec.encoderBegin(this.#ctx, this.#room(64)));
  }

  #room(bytes: number): Buffer {
    if (this.#out.length < bytes) this.#out = Buffer.allocUnsafeSlow(bytes);
    return this.#out;
  }

  #emit(n: number): void {
    if (n > 0) this.push(Buffer.from(this.#out.subarray(0, n)));
  }
}

export interface Lz4DecoderOptions {
  /** Named in error messages, e.g. the archive's path. */
  source?: string;
}

/** Raw bytes one decode call may write: a whole 4 MiB block goes straight into it. */
const OUT_BYTES = BLOCK_BYTES;

export class Lz4FrameDecoder extends Transform {
  readonly #source: string;
  #codec!: Lz4Codec;
  #ctx!: Lz4Context;
  /** Decoded bytes not yet passed on: out[0, filled). A full-enough buffer is passed on as it is, and replaced. */
  #out = Buffer.allocUnsafeSlow(OUT_BYTES);
  #filled = 0;
  /** Stream offset of the next byte to decode. */
  #offset = 0;
  /** liblz4's hint after the last call: 0 at a frame's end. */
  #hint = 0;

  constructor(opts: Lz4DecoderOptions = {}) {
    super();
    this.#source = opts.source ?? 'LZ4 stream';
  }

  override _construct(callback: (err?: Error | null) => void): void {
    lz4Ready().then((codec) => {
      this.#codec = codec;
      this.#ctx = codec.decoderCreate();
      callback();
    }, callback);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      for (let at = 0; at < chunk.length; ) {
        const [used, made, hint] = this.#decode(at === 0 ? chunk : chunk.subarray(at));
        at += used;
        this.#offset += used;
        this.#filled += made;
        this.#hint = hint;
        if (this.#filled >= OUT_BYTES / 2) this.#passOn(false);
        else if (used === 0 && made === 0) {
          if (this.#filled === 0) throw new Error(`liblz4 neither read nor wrote at byte ${this.#offset} of ${this.#source}`);
          this.#passOn(false); // no room left for liblz4's next output
        }
      }
      if (this.#filled > 0) this.#passOn(true);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.#offset === 0) callback(this.#invalid('is empty: its LZ4 stream holds no frame'));
    else if (this.#hint !== 0) {
      callback(
        this.#invalid(`is truncated: its LZ4 stream ends inside a frame, at byte ${this.#offset} (${this.#hint} more bytes expected next)`),
      );
    } else callback();
  }

  #decode(src: Buffer): [number, number, number] {
    try {
      return this.#codec.decode(this.#ctx, src, this.#out.subarray(this.#filled));
    } catch (err) {
      const name = (err as Error).message;
      const what = name.includes('frameType_unknown') ? `expected the LZ4 frame magic 04224d18 (${name})` : `it does not decode (${name})`;
      throw this.#invalid(`is damaged near byte ${this.#offset} of its LZ4 stream: ${what}`);
    }
  }

  /** Passes the decoded bytes on: the buffer itself (a new one takes its place), or a copy of a small part. */
  #passOn(copy: boolean): void {
    if (this.#filled === 0) return;
    if (copy && this.#filled < OUT_BYTES / 2) {
      this.push(Buffer.from(this.#out.subarray(0, this.#filled)));
    } else {
      this.push(this.#out.subarray(0, this.#filled));
      this.#out = Buffer.allocUnsafeSlow(OUT_BYTES);
    }
    this.#filled = 0;
  }

  #invalid(what: string): CedanaError {
    return new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${this.#source} ${what}`);
  }
}
