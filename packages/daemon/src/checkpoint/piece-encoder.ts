/**
 * The encoder half of lz4-stream.ts and zstd-stream.ts: cuts its input into pieces of
 * `pieceBytes` and compresses each into one self-contained frame with `compressPiece`,
 * up to `inflight` at once on the thread pool, emitting the frames in input order, back
 * to back (both formats decode a concatenation of frames). Memory stays at a few pieces.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { ByteQueue } from './byte-queue.js';

export interface PieceEncoderOptions {
  pieceBytes?: number;
  inflight?: number;
}

export class PieceEncoder extends Transform {
  readonly #queue = new ByteQueue();
  readonly #inflight: Promise<Buffer>[] = [];
  readonly #pieceBytes: number;
  readonly #maxInflight: number;
  #frames = 0;

  constructor(
    private readonly compressPiece: (piece: Buffer) => Promise<Buffer>,
    defaults: Required<PieceEncoderOptions>,
    opts: PieceEncoderOptions = {},
  ) {
    super();
    this.#pieceBytes = opts.pieceBytes ?? defaults.pieceBytes;
    this.#maxInflight = opts.inflight ?? defaults.inflight;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#queue.push(chunk);
    this.#compressFullPieces().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.#finish().then(() => callback(), callback);
  }

  async #compressFullPieces(): Promise<void> {
    while (this.#queue.length >= this.#pieceBytes) await this.#submit(this.#queue.take(this.#pieceBytes));
  }

  async #finish(): Promise<void> {
    // An empty input still becomes one (empty) frame, so the output is a valid stream.
    if (this.#queue.length > 0 || this.#frames === 0) await this.#submit(this.#queue.take(this.#queue.length));
    while (this.#inflight.length > 0) this.push(await this.#inflight.shift());
  }

  async #submit(piece: Buffer): Promise<void> {
    this.#frames++;
    this.#inflight.push(settledLater(this.compressPiece(piece)));
    if (this.#inflight.length >= this.#maxInflight) this.push(await this.#inflight.shift());
  }
}

/** A promise whose rejection is handled when it is awaited in turn, not reported as unhandled before. */
export function settledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
