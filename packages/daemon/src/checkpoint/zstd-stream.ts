/**
 * Streaming zstd with the native codec (native-codec.ts: libzstd's streaming API, the code
 * of the `zstd` CLI, from @cedana/plugin-sdk/native). The encoder writes one frame at level
 * 3 (zstd's default) with a content checksum, as `zstd -3` does; the decoder reads any zstd
 * stream the CLI reads: concatenated frames (the stored head, then the rest: stored-head.ts),
 * skippable frames, and so the archives written before with @mongodb-js/zstd (a frame per
 * 4 MiB piece).
 *
 * Each call runs on libuv's thread pool, on at most BATCH_BYTES of input (the tar stream's
 * small chunks are gathered first: one call each would cost more in hand-offs than zstd
 * spends). Memory is libzstd's window (2 MiB at level 3; the decoder refuses frames that
 * ask for more than 128 MiB, libzstd's default limit), the batch and one output buffer;
 * output waits for the reader (backpressure), so even a stream of zeros that decodes to
 * gigabytes holds only a few buffers.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CedanaError } from '@cedana/core';
import type { ZstdCodec, ZstdContext } from '@cedana/plugin-sdk/native';
import { ByteQueue } from './byte-queue.js';
import { zstdReady } from './native-codec.js';

/** zstd's default level: on checkpoint pages, -1 is barely faster and level 3 compresses zero runs as well. */
const LEVEL = 3;
/** Input gathered before one call. */
const BATCH_BYTES = 1 << 20;
/** Output one call may write; a buffer at least half full is passed on as it is. */
const OUT_BYTES = 1 << 20;

/** The Transform half both stages share: output that waits for its reader, and the codec loaded before the first byte. */
abstract class ZstdStage extends Transform {
  protected codec!: ZstdCodec;
  protected ctx!: ZstdContext;
  protected readonly queue = new ByteQueue();
  #out = Buffer.allocUnsafeSlow(OUT_BYTES);
  #wake: (() => void) | undefined;

  protected abstract create(codec: ZstdCodec): ZstdContext;
  /** One native call on `src` into `dst`: [consumed, produced, rc]. */
  protected abstract call(src: Buffer, dst: Buffer, end: boolean): Promise<[number, number, number]>;

  override _construct(callback: (err?: Error | null) => void): void {
    zstdReady().then((codec) => {
      this.codec = codec;
      this.ctx = this.create(codec);
      callback();
    }, callback);
  }

  override _read(size: number): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    super._read(size);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.queue.push(chunk);
    if (this.queue.length < BATCH_BYTES) callback();
    else this.run(this.queue.take(this.queue.length), false).then(() => callback(), callback);
  }

  /**
   * Calls the codec until `src` is consumed and its output passed on (with `end`, until rc is 0
   * too); `onCall` sees each call's result. Returns the last call's rc.
   */
  protected async run(src: Buffer, end: boolean, onCall?: (consumed: number, produced: number, rc: number) => void): Promise<number> {
    let rest = src;
    let rc = 0;
    let full = false;
    // The encoder closes its frame even when nothing is left to give it.
    let closing = end;
    while (rest.length > 0 || full || closing) {
      const [consumed, produced, hint] = await this.call(rest, this.#out, end);
      rest = rest.subarray(consumed);
      rc = hint;
      onCall?.(consumed, produced, hint);
      // A full buffer may leave output inside libzstd: call again, with what is left of src (maybe
      // nothing), unless rc says nothing is left (0: the frame or flush is complete; a decoder called
      // with nothing after a frame's end would hint at the next frame's header).
      full = produced === this.#out.length && rc !== 0;
      closing = end && rc !== 0;
      if (!full && consumed === 0 && produced === 0 && rest.length > 0) throw new Error('libzstd neither read nor wrote');
      await this.#passOn(produced);
    }
    return rc;
  }

  async #passOn(produced: number): Promise<void> {
    if (produced === 0) return;
    let more: boolean;
    if (produced >= OUT_BYTES / 2) {
      more = this.push(this.#out.subarray(0, produced));
      this.#out = Buffer.allocUnsafeSlow(OUT_BYTES);
    } else more = this.push(Buffer.from(this.#out.subarray(0, produced)));
    if (!more) await new Promise<void>((resolve) => (this.#wake = resolve));
  }
}

export interface ZstdEncoderOptions {
  /** Gets each input chunk once it is compressed (read-buffers.ts). */
  giveBack?: ((chunk: Buffer) => void) | undefined;
}

export class ZstdFrameEncoder extends ZstdStage {
  readonly #giveBack: ((chunk: Buffer) => void) | undefined;
  /** Input chunks in the queue, given back once compressed. */
  #held: Buffer[] = [];

  constructor(opts: ZstdEncoderOptions = {}) {
    super();
    this.#giveBack = opts.giveBack;
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#giveBack) this.#held.push(chunk);
    super._transform(chunk, encoding, callback);
  }

  /** After each run the queue is empty: its chunks are compressed. */
  protected override async run(src: Buffer, end: boolean): Promise<number> {
    const rc = await super.run(src, end);
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) this.#giveBack?.(chunk);
    return rc;
  }

  protected create(codec: ZstdCodec): ZstdContext {
    // Content checksums make a corrupted archive fail to decode instead of restoring garbage.
    return codec.zstdEncoderCreate(LEVEL, 0, true);
  }

  protected call(src: Buffer, dst: Buffer, end: boolean): Promise<[number, number, number]> {
    return this.codec.zstdEncode(this.ctx, src, dst, end);
  }

  override _flush(callback: TransformCallback): void {
    // An empty input still becomes one (empty) frame, so the output is a valid stream.
    this.run(this.queue.take(this.queue.length), true).then(() => callback(), callback);
  }
}

export interface ZstdDecoderOptions {
  /** Named in error messages, e.g. the archive's path. */
  source?: string;
}

export class ZstdFrameDecoder extends ZstdStage {
  readonly #source: string;
  /** Stream offset of the next byte to decode. */
  #offset = 0;
  /** libzstd's hint after the last call: 0 at a frame's end. */
  #hint = 0;

  constructor(opts: ZstdDecoderOptions = {}) {
    super();
    this.#source = opts.source ?? 'zstd stream';
  }

  protected create(codec: ZstdCodec): ZstdContext {
    return codec.zstdDecoderCreate();
  }

  protected async call(src: Buffer, dst: Buffer): Promise<[number, number, number]> {
    try {
      return await this.codec.zstdDecode(this.ctx, src, dst);
    } catch (err) {
      const name = (err as Error).message;
      const what = /unknown frame descriptor/i.test(name)
        ? `expected the zstd frame magic 28b52ffd (${name})`
        : `it does not decode (${name})`;
      throw this.#invalid(`is damaged near byte ${this.#offset} of its zstd stream: ${what}`);
    }
  }

  protected override run(src: Buffer, end: boolean): Promise<number> {
    return super.run(src, end, (consumed, _produced, hint) => {
      this.#offset += consumed;
      this.#hint = hint;
    });
  }

  override _flush(callback: TransformCallback): void {
    this.run(this.queue.take(this.queue.length), false).then(() => {
      if (this.#offset === 0) callback(this.#invalid('is empty: its zstd stream holds no frame'));
      else if (this.#hint !== 0) {
        callback(
          this.#invalid(
            `is truncated: its zstd stream ends inside a frame, at byte ${this.#offset} (${this.#hint} more bytes expected next)`,
          ),
        );
      } else callback();
    }, callback);
  }

  #invalid(what: string): CedanaError {
    return new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${this.#source} ${what}`);
  }
}
