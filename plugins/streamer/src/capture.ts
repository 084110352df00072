/**
 * Dump side: takes every image CRIU streams (control.ts hands over its pipe), cuts it
 * into chunks and hands them round robin to the N stream workers, each of which
 * compresses its chunks, hashes them and appends them to its own shard: N shards written
 * in parallel. Nothing uncompressed is written, and at most a few chunks per stream are
 * in memory: when that many are in flight, reading CRIU's pipes pauses and CRIU waits.
 *
 * Stages: createShards, then a Capture takes CRIU's images (readImage, submitChunk) until
 * CRIU is done and every chunk is written, then finishShards and writeIndex.
 */
import { close as closeCb } from 'node:fs';
import { lstat, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CodecPool } from './codec-pool.js';
import { followCriu, listenForCriu, stopControl } from './control.js';
import {
  CHUNK_HEADER,
  CHUNK_SIZE,
  type ImageEntry,
  INDEX_FILE,
  INDEX_FORMAT,
  indexProblem,
  type StreamIndex,
  shardName,
} from './format.js';
import { loadAddon, type NativeHelper } from './native.js';
import { PIPE_PIECE, PIPE_SIZE } from './pipes.js';
import { type Slot, SlotPool, slotBytes } from './slots.js';

export interface ShardStats {
  shard: string;
  rawBytes: number;
  storedBytes: number;
  chunks: number;
  /** sha256 of the whole shard (capture only). */
  sha256?: string;
}

export interface StreamStats {
  /** The streamer process's peak resident memory (main.ts adds it). */
  peakRssBytes?: number;
  images: number;
  rawBytes: number;
  storedBytes: number;
  durationMs: number;
  shards: ShardStats[];
}

export interface CaptureOptions {
  dir: string;
  streams: number;
  /** The shards exist already, as FIFOs the daemon reads (remote storage): they are written, not created. */
  piped?: boolean | undefined;
  addonPath: string;
  /** Called once CRIU may connect. */
  onListening?(): void;
  onProgress?(rawBytes: number, storedBytes: number): void;
}

const close = promisify(closeCb);

/** Runs until CRIU has closed every image and the index is written; rejects on the first failure. */
export async function capture(opts: CaptureOptions): Promise<StreamStats> {
  const started = Date.now();
  const shards = await createShards(opts.dir, opts.streams, opts.piped === true);
  const pool = new CodecPool(opts.streams, opts.addonPath);
  const listenFd = listenForCriu(opts.addonPath, opts.dir, 'capture');
  const run = new Capture(opts, shards, pool, listenFd);
  try {
    opts.onListening?.();
    await run.finished;
    await finishShards(pool, shards);
    await writeIndex(opts.dir, opts.streams, run.images, shards);
    return {
      images: run.images.length,
      rawBytes: run.rawTotal,
      storedBytes: run.storedTotal,
      durationMs: Date.now() - started,
      shards,
    };
  } finally {
    stopControl(opts.addonPath, run.controlFds);
    await pool.close();
  }
}

/** One empty shard per stream: new files, or the dump is refused; piped, the FIFOs the daemon made. */
async function createShards(dir: string, streams: number, piped: boolean): Promise<ShardStats[]> {
  const shards: ShardStats[] = [];
  for (let i = 0; i < streams; i++) {
    const path = join(dir, shardName(i));
    if (!piped) await (await open(path, 'wx')).close();
    else if (!(await lstat(path)).isFIFO()) throw new Error(`${path} should be a FIFO made by the daemon, and is not`);
    shards.push({ shard: shardName(i), rawBytes: 0, storedBytes: 0, chunks: 0 });
  }
  return shards;
}

/** Closes every shard once its last chunk is written; each worker hashed its shard as it wrote it. */
async function finishShards(pool: CodecPool, shards: ShardStats[]): Promise<void> {
  for (const [i, s] of shards.entries()) s.sha256 = await pool.finish(i);
}

async function writeIndex(dir: string, streams: number, images: ImageEntry[], shards: ShardStats[]): Promise<void> {
  const index: StreamIndex = {
    format: INDEX_FORMAT,
    streams,
    compression: 'lz4',
    chunkSize: CHUNK_SIZE,
    images,
    shards: shards.map((s) => s.storedBytes),
  };
  // The same checks a restore makes: a dump whose index does not add up fails here (the
  // job goes on) rather than leaving a checkpoint that no restore can read.
  const wrong = indexProblem(index, streams);
  if (wrong) throw new Error(`the index of this dump does not add up: ${wrong}`);
  await writeFile(join(dir, INDEX_FILE), JSON.stringify(index));
}

/** One CRIU dump being taken: its open pipes, the chunks in flight, the index as it grows. */
class Capture {
  readonly images: ImageEntry[] = [];
  readonly controlFds: number[];
  /** Settles once CRIU is done and every chunk is in its shard; rejects on the first failure. */
  readonly finished: Promise<void>;
  rawTotal = 0;
  storedTotal = 0;
  /**
   * How many of CRIU's pipes are being read. A count, not a set of fds: a pipe's fd is free
   * for reuse once its close is done, before its reader's last line runs, and CRIU's next
   * pipe (inventory.img, the last) often gets the same number.
   */
  private reading = 0;
  /** Readers waiting for room (see room()). */
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly maxInFlight: number;
  private readonly slots = new SlotPool();
  private readonly addon: NativeHelper;
  private inFlight = 0;
  private chunkCount = 0;
  private criuDone = false;
  private failure: Error | undefined;
  private resolve: () => void = () => {};
  private reject: (err: Error) => void = () => {};

  constructor(
    private readonly opts: CaptureOptions,
    private readonly shards: ShardStats[],
    private readonly pool: CodecPool,
    listenFd: number,
  ) {
    this.maxInFlight = 2 * opts.streams + 2;
    this.addon = loadAddon(opts.addonPath);
    this.controlFds = [listenFd];
    this.finished = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    followCriu({ listenFd, mode: 'capture', addonPath: opts.addonPath }, (e) => {
      if (e.type === 'connected') this.controlFds.push(e.fd);
      else if (e.type === 'open') void this.readImage(e.name, e.fd);
      else if (e.type === 'end') {
        this.criuDone = true;
        this.maybeDone();
      } else if (e.type === 'error') this.fail(new Error(`talking to CRIU over its stream socket: ${e.message}`));
    });
  }

  /**
   * Reads one image from its pipe straight into chunk slots, a chunk per job on
   * libuv's pool (pipes.ts), all of CRIU's open pipes at once: CRIU writes
   * pagemap-N.img and pages-N.img side by side.
   */
  private async readImage(name: string, fd: number): Promise<void> {
    const image = this.images.push({ name, size: 0, chunks: [] }) - 1;
    this.reading++;
    this.addon.setPipeSize(fd, PIPE_SIZE);
    try {
      for (let seq = 0, eof = false; !eof; ) {
        await this.room();
        if (this.failure) break;
        const slot = this.slots.take();
        let used = 0;
        try {
          used = await this.addon.readFull(fd, slotBytes(slot), PIPE_PIECE);
          eof = used < CHUNK_SIZE;
        } finally {
          if (used === 0) this.slots.give(slot);
        }
        (this.images[image] as ImageEntry).size += used;
        if (used > 0) this.submitChunk(image, seq++, slot, used);
      }
    } catch (err) {
      this.fail(new Error(`reading image ${name} from CRIU: ${(err as Error).message}`));
    } finally {
      await close(fd).catch(() => {});
      this.reading--;
      this.maybeDone();
    }
  }

  /** Room for one more chunk in flight (compressing or being written): until then reading waits, and so does CRIU. */
  private room(): Promise<void> {
    if (this.inFlight < this.maxInFlight || this.failure) return Promise.resolve();
    return new Promise((wake) => this.waiting.push(wake));
  }

  /** Hands chunk `seq` of image number `image` to the next stream (round robin: shards of equal share, read at once on restore). */
  private submitChunk(image: number, seq: number, slot: Slot, length: number): void {
    this.inFlight++;
    const stream = this.chunkCount++ % this.shards.length;
    const job = this.appendChunk(stream, image, seq, slot, length);
    this.pending.add(job);
    job.then(
      () => {
        this.pending.delete(job);
        this.inFlight--;
        if (this.inFlight < this.maxInFlight) for (const wake of this.waiting.splice(0)) wake();
        this.maybeDone();
      },
      (err: Error) => this.fail(err),
    );
  }

  /** The stream's worker compresses, hashes and appends the chunk; the index records where it went. */
  private async appendChunk(stream: number, image: number, seq: number, slot: Slot, length: number): Promise<void> {
    const stats = this.shards[stream] as ShardStats;
    const { offset, stored, sha256 } = await this.pool
      .append(stream, join(this.opts.dir, stats.shard), image, slot, length)
      .finally(() => this.slots.give(slot));
    (this.images[image] as ImageEntry).chunks[seq] = { s: stream, o: offset, n: stored, r: length, h: sha256 };
    stats.rawBytes += length;
    stats.storedBytes += CHUNK_HEADER + stored;
    stats.chunks++;
    this.rawTotal += length;
    this.storedTotal += CHUNK_HEADER + stored;
    this.opts.onProgress?.(this.rawTotal, this.storedTotal);
  }

  private maybeDone(): void {
    if (!this.criuDone || this.reading > 0 || this.failure) return;
    Promise.all(this.pending).then(
      () => this.resolve(),
      (err: Error) => this.fail(err),
    );
  }

  /**
   * The readers stop at their next chunk and close their pipes: CRIU's next write fails,
   * its dump fails, and the process goes on.
   */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const wake of this.waiting.splice(0)) wake();
    stopControl(this.opts.addonPath, this.controlFds); // CRIU's next request fails too
    this.reject(err);
  }
}
