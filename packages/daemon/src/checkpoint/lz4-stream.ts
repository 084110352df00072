/**
 * Streaming LZ4 on top of lz4-napi, which only compresses and decompresses whole
 * buffers. The encoder cuts its input into pieces and writes each as a standard LZ4
 * frame, back to back: `lz4 -d` decodes the concatenation. The decoder finds frame
 * boundaries itself (see lz4-frame.ts) and hands whole frames to decompressFrame,
 * because decompressFrame silently ignores anything after the first frame.
 *
 * Both keep up to `inflight` (default 2) buffers in lz4-napi's thread pool at once and
 * emit results in input order; memory stays at a few pieces or frames.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CedanaError } from '@cedana/core';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { ByteQueue } from './byte-queue.js';
import { type FrameHeader, readBlock, readFrameHeader, singleBlockFrame } from './lz4-frame.js';
import { PieceEncoder, type PieceEncoderOptions, settledLater } from './piece-encoder.js';

/**
 * 1 MiB pieces, one LZ4 block each. lz4-napi allocates its outputs in its own mimalloc,
 * on thread-pool threads, and they are freed on the main thread; that memory is reused
 * poorly: packing/unpacking 1 GiB peaked at 0.27/0.33 GiB RSS with 1 MiB pieces against
 * 0.42/0.66 GiB with 4 MiB ones, at the same ~1 GB/s.
 */
const PIECE_BYTES = 1 << 20;
const INFLIGHT = 2;
/** Frames up to this size are decoded whole; cedana's own are ~1 MiB, `lz4` CLI output is one frame per file. */
const MAX_FRAME_BYTES = 32 << 20;

export type Lz4EncoderOptions = PieceEncoderOptions;

export class Lz4FrameEncoder extends PieceEncoder {
  constructor(opts: Lz4EncoderOptions = {}) {
    // Content checksums make a corrupted archive fail to decode instead of restoring garbage.
    super((piece) => compressFrame(piece, { contentChecksum: true }), { pieceBytes: PIECE_BYTES, inflight: INFLIGHT }, opts);
  }
}

export interface Lz4DecoderOptions {
  /** Named in error messages, e.g. the archive's path. */
  source?: string;
  /** Larger frames are decoded block by block (independent blocks only), so memory stays bounded. */
  maxFrameBytes?: number;
  inflight?: number;
}

type Job = { frame: Buffer; at: number } | { stored: Buffer };

export class Lz4FrameDecoder extends Transform {
  readonly #queue = new ByteQueue();
  readonly #inflight: Promise<Buffer>[] = [];
  readonly #source: string;
  readonly #maxFrameBytes: number;
  readonly #maxInflight: number;
  /** Stream offset of the queue's first byte. */
  #offset = 0;
  #frames = 0;
  /** Header of the frame at the queue's front, once read. */
  #header: FrameHeader | undefined;
  /** Bytes of that frame already walked (header and whole blocks). */
  #scanned = 0;
  /** Decoding the current frame block by block: the queue's front is a block boundary. */
  #blockMode = false;
  /** Bytes of a skippable frame still to drop. */
  #skip = 0;

  constructor(opts: Lz4DecoderOptions = {}) {
    super();
    this.#source = opts.source ?? 'LZ4 stream';
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
    for (const job of this.#cutJobs()) {
      let output: Promise<Buffer>;
      if ('stored' in job) output = Promise.resolve(job.stored);
      else {
        const { at } = job;
        output = decompressFrame(job.frame).catch((err: unknown) => this.#corrupt(at, err));
      }
      this.#inflight.push(settledLater(output));
      if (this.#inflight.length >= this.#maxInflight) this.push(await this.#inflight.shift());
    }
  }

  async #finish(): Promise<void> {
    if (this.#header !== undefined || this.#queue.length > 0 || this.#skip > 0) {
      const have = this.#queue.length;
      throw this.#invalid(
        `is truncated: its LZ4 stream ends inside the frame that starts at byte ${this.#offset} (${have} bytes of it present)`,
      );
    }
    if (this.#frames === 0) throw this.#invalid('is empty: its LZ4 stream holds no frame');
    while (this.#inflight.length > 0) this.push(await this.#inflight.shift());
  }

  /** Cuts whole frames (or, in block mode, whole blocks) off the queue's front. */
  *#cutJobs(): Generator<Job> {
    const queue = this.#queue;
    for (;;) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, queue.length);
        this.#consume(n);
        this.#skip -= n;
        if (this.#skip > 0) return;
      }
      if (this.#header === undefined) {
        const read = readFrameHeader(queue);
        if ('more' in read) return;
        if ('invalid' in read) throw this.#damaged(this.#offset, read.invalid);
        if ('skip' in read) {
          this.#skip = read.skip;
          continue;
        }
        this.#header = read.header;
        this.#scanned = read.header.length;
        this.#frames++;
      }
      const header = this.#header;
      const block = readBlock(queue, this.#scanned, header);
      if ('more' in block) return;
      if ('invalid' in block) throw this.#damaged(this.#offset + this.#scanned, block.invalid);
      if ('end' in block) {
        const at = this.#offset;
        if (this.#blockMode) this.#consume(block.end);
        else yield { frame: this.#consume(block.end), at };
        this.#header = undefined;
        this.#blockMode = false;
        continue;
      }
      if (this.#blockMode) {
        const at = this.#offset;
        const bytes = this.#consume(block.blockEnd);
        const sizeWordAndData = bytes.subarray(0, 4 + block.dataLength);
        yield block.stored ? { stored: sizeWordAndData.subarray(4) } : { frame: singleBlockFrame(sizeWordAndData), at };
        continue;
      }
      this.#scanned = block.blockEnd;
      if (this.#scanned > this.#maxFrameBytes) this.#enterBlockMode(header);
    }
  }

  /** The frame is too large to hold whole: drop its header and go on block by block. */
  #enterBlockMode(header: FrameHeader): void {
    if (!header.independent) {
      throw this.#damaged(
        this.#offset,
        `a frame with linked blocks is larger than ${this.#maxFrameBytes} bytes, more than this decoder holds in memory`,
      );
    }
    // Block and content checksums of this frame are not verified in block mode.
    this.#consume(header.length);
    this.#scanned = 0;
    this.#blockMode = true;
  }

  #consume(n: number): Buffer {
    this.#offset += n;
    this.#scanned = Math.max(0, this.#scanned - n);
    return this.#queue.take(n);
  }

  #corrupt(at: number, err: unknown): never {
    throw this.#invalid(
      `is damaged: the frame at byte ${at} of its LZ4 stream does not decode (${err instanceof Error ? err.message : String(err)})`,
    );
  }

  #damaged(at: number, what: string): CedanaError {
    return this.#invalid(`is damaged at byte ${at} of its LZ4 stream: ${what}`);
  }

  #invalid(what: string): CedanaError {
    return new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${this.#source} ${what}`);
  }
}

/** Marks a promise as handled now (it is awaited later, in order), so an early rejection is not an unhandled one. */
