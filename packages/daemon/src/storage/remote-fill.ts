/**
 * Files of a remote checkpoint downloaded while CRIU already restores from them (the
 * shards of a `--streams N` checkpoint, which the streamer checks chunk by chunk): each
 * file is made at its full size, then filled part by part (the storage's part size, its
 * queue of ranged GETs in flight per object) in the order the reader asks for, the rest
 * in file order after the last part asked for. Every part written is reported present;
 * the reader waits for the ranges it needs. Bytes go to the file as they come off the
 * socket: memory is the sockets' buffers, not files x queue x part size.
 *
 * The first failure (a missing, cut or changed object, the storage gone) stops every
 * download and is told to the reader (`failed`), so CRIU's next read fails and nothing
 * restored runs; `done` rejects with it, naming the object.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { type ArrivingImages, CedanaError, type ObjectRanges, type StorageClient } from '@cedana/core';
import { PRIVATE_FILE_MODE } from '../checkpoint/private-modes.js';

export interface FillObject {
  /** Name in the folder (and in checkpoint.json). */
  name: string;
  url: string;
  /** Its size in checkpoint.json. */
  size: number;
}

type Listener = Parameters<ArrivingImages['follow']>[0];

const MISSING = 0;
const LOADING = 1;
const PRESENT = 2;

/** One file being filled: its parts' states, the parts asked for, where the rest goes on from. */
interface Filling {
  object: FillObject;
  ranges: ObjectRanges;
  file: FileHandle;
  parts: Uint8Array;
  wanted: number[];
  cursor: number;
  present: [number, number][];
}

export class RemoteFill implements ArrivingImages {
  readonly files: string[];
  /** Settles once every file is whole, or with the first failure. */
  readonly done: Promise<void>;
  private readonly byName = new Map<string, Filling>();
  private readonly listeners: Listener[] = [];
  #failure: Error | undefined;
  readonly #startedAt = Date.now();
  #wholeAfterMs: number | undefined;
  private bytes = 0;

  private constructor(
    private readonly stop: AbortController,
    private readonly fillings: Filling[],
    private readonly total: number,
    private readonly onProgress: ((done: number, total: number) => void) | undefined,
  ) {
    this.files = fillings.map((f) => f.object.name);
    for (const f of fillings) this.byName.set(f.object.name, f);
    this.done = Promise.all(fillings.map((f) => this.fillOne(f))).then(
      () => {
        if (this.bytes === this.total) this.#wholeAfterMs = Date.now() - this.#startedAt;
        return this.closeFiles();
      },
      async (err: unknown) => {
        await this.closeFiles();
        throw err;
      },
    );
    this.done.catch(() => {}); // awaited by the caller, or abort()ed
  }

  /**
   * Opens every object (its size must be checkpoint.json's) and makes its file in `dir`,
   * then starts downloading. Fails before anything is downloaded on a missing or resized object.
   */
  static async start(
    client: StorageClient,
    dir: string,
    objects: FillObject[],
    opts: { signal?: AbortSignal | undefined; onProgress?: ((done: number, total: number) => void) | undefined },
  ): Promise<RemoteFill> {
    const fillings: Filling[] = [];
    const stop = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
    const openOne = async (object: FillObject) => {
      const ranges = await client.openRanges(object.url, { signal });
      if (ranges.size !== object.size) {
        throw new CedanaError(
          'CEDANA_ERR_CHECKPOINT_INVALID',
          `${object.url} has ${ranges.size} bytes, checkpoint.json says ${object.size}: the object was truncated or changed`,
        );
      }
      const file = await open(join(dir, object.name), 'w', PRIVATE_FILE_MODE);
      const parts = new Uint8Array(Math.ceil(object.size / ranges.partSize));
      fillings.push({ object, ranges, file, parts, wanted: [], cursor: 0, present: [] });
      await file.truncate(object.size);
    };
    try {
      // Every object's HEAD at once; the first failure in the order given is the one told.
      const opened = await Promise.allSettled(objects.map(openOne));
      const failed = opened.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      fillings.sort((a, b) => objects.indexOf(a.object) - objects.indexOf(b.object));
    } catch (err) {
      await Promise.allSettled(fillings.map((f) => f.file.close()));
      throw err;
    }
    const fill = new RemoteFill(
      stop,
      fillings,
      objects.reduce((sum, o) => sum + o.size, 0),
      opts.onProgress,
    );
    opts.signal?.addEventListener('abort', () => fill.fail(opts.signal?.reason ?? new Error('the restore was cancelled')), {
      once: true,
    });
    return fill;
  }

  /** How long the download took, once every file is whole (for the log). */
  get wholeAfterMs(): number | undefined {
    return this.#wholeAfterMs;
  }

  /** The first failure, once there was one. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  follow(listener: Listener): void {
    this.listeners.push(listener);
    for (const f of this.fillings) for (const [start, end] of f.present) listener.present(f.object.name, start, end);
    if (this.#failure) listener.failed(this.#failure);
  }

  want(name: string, start: number, end: number): void {
    const f = this.byName.get(name);
    if (!f || end <= start) return;
    const size = f.ranges.partSize;
    for (let p = Math.floor(start / size); p < Math.min(f.parts.length, Math.ceil(end / size)); p++) {
      if (f.parts[p] === MISSING && !f.wanted.includes(p)) f.wanted.push(p);
    }
  }

  /** Stops every download (the restore is over, or failed); the files stay as they are. */
  abort(reason?: unknown): void {
    if (!this.stop.signal.aborted) this.stop.abort(reason ?? new Error('the restore no longer needs the download'));
  }

  private async fillOne(f: Filling): Promise<void> {
    const worker = async () => {
      for (let p = this.nextPart(f); p >= 0; p = this.nextPart(f)) {
        f.parts[p] = LOADING;
        const start = p * f.ranges.partSize;
        const end = Math.min(f.object.size, start + f.ranges.partSize);
        await f.ranges.read(start, end, async (bytes, at) => {
          await f.file.write(bytes, 0, bytes.length, at);
          this.bytes += bytes.length;
          this.onProgress?.(this.bytes, this.total);
        });
        if (this.stop.signal.aborted) return;
        f.parts[p] = PRESENT;
        f.present.push([start, end]);
        for (const l of this.listeners) l.present(f.object.name, start, end);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, f.ranges.queue) }, worker));
    } catch (err) {
      if (this.#failure) throw this.#failure;
      if (this.stop.signal.aborted) return; // stopped by abort(): the reads cut short are no failure
      this.fail(err as Error);
      throw err;
    }
  }

  /** The part to download next: one asked for, else the next missing after the cursor (wrapping); -1 when none is left. */
  private nextPart(f: Filling): number {
    if (this.stop.signal.aborted) return -1;
    while (f.wanted.length > 0) {
      const p = f.wanted.shift() as number;
      if (f.parts[p] !== MISSING) continue;
      f.cursor = p + 1;
      return p;
    }
    for (let i = 0; i < f.parts.length; i++) {
      const p = (f.cursor + i) % f.parts.length;
      if (f.parts[p] === MISSING) {
        f.cursor = p + 1;
        return p;
      }
    }
    return -1;
  }

  private fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.abort(err);
    for (const l of this.listeners) l.failed(err);
  }

  private async closeFiles(): Promise<void> {
    await Promise.allSettled(this.fillings.map((f) => f.file.close()));
  }
}
