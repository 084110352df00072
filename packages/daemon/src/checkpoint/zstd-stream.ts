/**
 * Streaming zstd on top of @mongodb-js/zstd, which only compresses and decompresses
 * whole buffers (on libuv's thread pool). As for LZ4 (lz4-stream.ts), the encoder cuts
 * its input into pieces and writes each as a zstd frame, back to back: `zstd -d`
 * decodes the concatenation (RFC 8878, frames concatenate). The decoder finds frame
 * boundaries itself (zstd-frame.ts) and decompresses whole frames.
 *
 * Why this package: Node 20's zlib has no zstd; @mongodb-js/zstd 1.x is napi-rs with a
 * prebuilt binary per platform in optional dependencies, so it installs with install
 * scripts off and no network beyond the registry. Its 2.x and later, zstd-napi and
 * others fetch or build their binary in an install script.
 *
 * Both keep up to `inflight` (default 2) buffers in the thread pool at once and emit
 * results in input order; memory stays at a few pieces or frames.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CedanaError } from '@cedana/core';
import { compress, decompress } from '@mongodb-js/zstd';
import { ByteQueue } from './byte-queue.js';
import { PieceEncoder, type PieceEncoderOptions, settledLater } from './piece-encoder.js';
import { readZstdBlock, readZstdFrameHeader } from './zstd-frame.js';

/**
 * 4 MiB pieces: ~40% faster than 1 MiB ones at a slightly better ratio (figures in
 * docs/architecture.md). The level is zstd's default, 3: @mongodb-js/zstd 1.x ignores
 * the level it is given.
 */
const PIECE_BYTES = 4 << 20;
const INFLIGHT = 2;
/** Frames up to this size are decoded; cedana's own hold 4 MiB of input each. */
const MAX_FRAME_BYTES = 64 << 20;

export type ZstdEncoderOptions = PieceEncoderOptions;

export class ZstdFrameEncoder extends PieceEncoder {
  constructor(opts: ZstdEncoderOptions = {}) {
    super((piece) => compress(piece), { pieceBytes: PIECE_BYTES, inflight: INFLIGHT }, opts);
  }
}

export interface ZstdDecoderOptions {
  /** Named in error messages, e.g. the archive's path. */
  source?: string;
  /** Larger frames are refused: zstd blocks depend on earlier ones, so a frame is decoded whole. */
  maxFrameBytes?: number;
  inflight?: number;
}

export class ZstdFrameDecoder extends Transform {
  readonly #queue = new ByteQueue();
  readonly #inflight: Promise<Buffer>[] = [];
  readonly #source: string;
  readonly #maxFrameBytes: number;
  readonly #maxInflight: number;
  /** Stream offset of the queue's first byte. */
  #offset = 0;
  #frames = 0;
  /** The frame at the queue's front, once its header was read: bytes walked so far, and its checksum flag. */
  #frame: { scanned: number; checksum: boolean; ended: boolean } | undefined;
  /** Bytes of a skippable frame still to drop. */
  #skip = 0;

  constructor(opts: ZstdDecoderOptions = {}) {
    super();
    this.#source = opts.source ?? 'zstd stream';
    this.#maxFrameBytes = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.#maxInflight = opts.inflight ?? INFLIGHT;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#queue.push(chunk);
    this.#decodeComplete().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.#finish().then(() => callback(), callback);
  }

  async #decodeComplete(): Promise<void> {
    for (const { frame, at } of this.#cutFrames()) {
      const output = decompress(frame).catch((err: unknown) => this.#corrupt(at, err));
      this.#inflight.push(settledLater(output));
      if (this.#inflight.length >= this.#maxInflight) this.push(await this.#inflight.shift());
    }
  }

  async #finish(): Promise<void> {
    if (this.#frame !== undefined || this.#queue.length > 0 || this.#skip > 0) {
      throw this.#invalid(
        `is truncated: its zstd stream ends inside the frame that starts at byte ${this.#offset} (${this.#queue.length} bytes of it present)`,
      );
    }
    if (this.#frames === 0) throw this.#invalid('is empty: its zstd stream holds no frame');
    while (this.#inflight.length > 0) this.push(await this.#inflight.shift());
  }

  /** Cuts whole frames off the queue's front. */
  *#cutFrames(): Generator<{ frame: Buffer; at: number }> {
    const queue = this.#queue;
    for (;;) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, queue.length);
        this.#consume(n);
        this.#skip -= n;
        if (this.#skip > 0) return;
      }
      if (this.#frame === undefined) {
        const read = readZstdFrameHeader(queue);
        if ('more' in read) return;
        if ('invalid' in read) throw this.#damaged(this.#offset, read.invalid);
        if ('skip' in read) {
          this.#skip = read.skip;
          continue;
        }
        this.#frame = { scanned: read.length, checksum: read.checksum, ended: false };
        this.#frames++;
      }
      const frame = this.#frame;
      if (!frame.ended) {
        const block = readZstdBlock(queue, frame.scanned);
        if ('more' in block) return;
        if ('invalid' in block) throw this.#damaged(this.#offset + frame.scanned, block.invalid);
        frame.scanned = block.blockEnd;
        frame.ended = block.last;
        if (frame.scanned > this.#maxFrameBytes) {
          throw this.#damaged(
            this.#offset,
            `a frame larger than ${this.#maxFrameBytes} bytes, more than this decoder holds in memory (cedana writes a frame per 4 MiB of input)`,
          );
        }
        if (!frame.ended) continue;
      }
      const end = frame.scanned + (frame.checksum ? 4 : 0);
      if (queue.length < end) return;
      const at = this.#offset;
      this.#frame = undefined;
      yield { frame: this.#consume(end), at };
    }
  }

  #consume(n: number): Buffer {
    this.#offset += n;
    return this.#queue.take(n);
  }

  #corrupt(at: number, err: unknown): never {
    throw this.#invalid(
      `is damaged: the frame at byte ${at} of its zstd stream does not decode (${err instanceof Error ? err.message : String(err)})`,
    );
  }

  #damaged(at: number, what: string): CedanaError {
    return this.#invalid(`is damaged at byte ${at} of its zstd stream: ${what}`);
  }

  #invalid(what: string): CedanaError {
    return new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${this.#source} ${what}`);
  }
}

/** Marks a promise as handled now (it is awaited later, in order), so an early rejection is not an unhandled one. */
