/**
 * Restore side: serves each image CRIU asks for from the shards, by position (the
 * index says where every chunk is), reading, checking and decompressing several
 * chunks ahead in parallel across the shards. Every chunk's header and digest (sha256;
 * crc32 in a format 1 index) are checked before CRIU gets a byte of it: a damaged
 * shard fails the restore before the restored process ever runs, and the error names
 * the shard, the offset and the image.
 *
 * Stages: readIndex and openShards (the index whole, each shard's size), then a Serving
 * answers CRIU's runs: for each image it opens, an ImageSender prefetches chunks (the
 * codec workers check and decode them into slots) and sends them into CRIU's pipe. With
 * `arrivals` the shards are still being downloaded: a chunk is read once its bytes are there.
 */
import { close as closeCb } from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Arrivals, ArrivalsStopped } from './arrivals.js';
import type { ShardStats, StreamStats } from './capture.js';
import { DamagedChunk } from './chunk.js';
import { CodecPool } from './codec-pool.js';
import { type ControlEvent, followCriu, listenForCriu, stopControl } from './control.js';
import { CHUNK_HEADER, type ChunkEntry, type ImageEntry, INDEX_FILE, parseIndex, type StreamIndex, shardName } from './format.js';
import { loadAddon, type NativeHelper } from './native.js';
import { PIPE_PIECE, PIPE_SIZE } from './pipes.js';
import { type Slot, SlotPool, slotBytes } from './slots.js';

export interface ServeOptions {
  dir: string;
  streams: number;
  addonPath: string;
  onListening?(): void;
  onProgress?(rawBytes: number, rawTotal: number): void;
  /** Settles when the caller is done with CRIU (it may run CRIU more than once until then). */
  stopped: Promise<void>;
  /** Set when the shards are still arriving: which of their bytes are there yet. */
  arrivals?: Arrivals | undefined;
}

const close = promisify(closeCb);

export async function readIndex(dir: string, streams: number): Promise<StreamIndex> {
  const text = await readFile(join(dir, INDEX_FILE), 'utf8').catch(() => {
    throw new DamagedChunk(`${INDEX_FILE} is missing from ${dir}`);
  });
  const index = parseIndex(text, streams);
  if (typeof index === 'string') throw new DamagedChunk(index);
  return index;
}

/** Opens the shards, checking each has the size the index says. */
export async function openShards(dir: string, index: StreamIndex): Promise<FileHandle[]> {
  const files: FileHandle[] = [];
  try {
    for (const [i, want] of index.shards.entries()) {
      const file = await open(join(dir, shardName(i)), 'r').catch(() => {
        throw new DamagedChunk(`shard ${shardName(i)} is missing from ${dir}`);
      });
      files.push(file);
      const { size } = await file.stat();
      if (size !== want)
        throw new DamagedChunk(`shard ${shardName(i)} has ${size} bytes, the index says ${want}: it was truncated or changed`);
    }
  } catch (err) {
    await Promise.allSettled(files.map((f) => f.close()));
    throw err;
  }
  return files;
}

/**
 * Serves every CRIU run that connects until `opts.stopped`, then returns once the
 * images it was writing are done; rejects on the first damaged chunk.
 */
export async function serve(opts: ServeOptions): Promise<StreamStats> {
  const started = Date.now();
  const index = await readIndex(opts.dir, opts.streams);
  const files = await openShards(opts.dir, index);
  const pool = new CodecPool(opts.streams, opts.addonPath);
  const listenFd = listenForCriu(opts.addonPath, opts.dir, 'serve');
  const run = new Serving(opts, index, pool, listenFd);
  try {
    opts.onListening?.();
    await run.untilStopped();
  } finally {
    stopControl(opts.addonPath, run.controlFds);
    await Promise.allSettled(files.map((f) => f.close()));
    await pool.close();
  }
  return {
    images: index.images.length,
    rawBytes: run.rawDone,
    storedBytes: index.shards.reduce((a, b) => a + b, 0),
    durationMs: Date.now() - started,
    shards: shardStats(index),
  };
}

/** Per shard, what the index says it holds. */
function shardStats(index: StreamIndex): ShardStats[] {
  const stats = index.shards.map((size, i) => ({ shard: shardName(i), rawBytes: 0, storedBytes: size, chunks: 0 }));
  for (const entry of index.images) {
    for (const c of entry.chunks) {
      const s = stats[c.s] as ShardStats;
      s.rawBytes += c.r;
      s.chunks++;
    }
  }
  return stats;
}

/** CRIU's restore runs being served: the images being sent, and the first failure. */
class Serving {
  readonly controlFds: number[];
  rawDone = 0;
  private readonly rawTotal: number;
  private readonly byName: Map<string, number>;
  private readonly sending = new Set<Promise<void>>();
  private readonly slots = new SlotPool();
  private readonly addon: NativeHelper;
  private failed = false;
  private stopping = false;
  private settle: { resolve(): void; reject(err: Error): void } = { resolve: () => {}, reject: () => {} };

  constructor(
    private readonly opts: ServeOptions,
    private readonly index: StreamIndex,
    private readonly pool: CodecPool,
    listenFd: number,
  ) {
    this.controlFds = [listenFd];
    this.addon = loadAddon(opts.addonPath);
    this.byName = new Map(index.images.map((entry, i) => [entry.name, i]));
    this.rawTotal = index.images.reduce((sum, i) => sum + i.size, 0);
    const images = index.images.map((i) => i.name);
    followCriu({ listenFd, mode: 'serve', addonPath: opts.addonPath, images }, (e) => this.onControl(e));
  }

  /** Resolves once the caller is done with CRIU and every image being sent is done; rejects on the first failure. */
  untilStopped(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      this.opts.stopped.then(() => {
        this.opts.arrivals?.stop();
        this.stopping = true; // the worker's accept fails once its socket is shut: that is the end, not an error
        stopControl(this.opts.addonPath, this.controlFds);
        Promise.all(this.sending).then(
          () => resolve(),
          (err: Error) => this.fail(err),
        );
      });
    });
  }

  private onControl(e: ControlEvent): void {
    if (e.type === 'connected') this.controlFds.push(e.fd);
    else if (e.type === 'open') this.startImage(e.name, e.fd);
    else if (e.type === 'error' && !this.stopping) this.fail(new Error(`talking to CRIU over its stream socket: ${e.message}`));
  }

  private startImage(name: string, fd: number): void {
    const image = this.byName.get(name) as number;
    const sender = new ImageSender(this.index.images[image] as ImageEntry, fd, this.addon, this.slots, {
      decode: async (c, slot) => {
        await this.opts.arrivals?.until(c.s, c.o, c.o + CHUNK_HEADER + c.n);
        await this.pool.decode(join(this.opts.dir, shardName(c.s)), image, name, c, slot);
      },
      stopped: () => this.failed,
      sent: (bytes) => {
        this.rawDone += bytes;
        this.opts.onProgress?.(this.rawDone, this.rawTotal);
      },
    });
    const job = sender.send(2 * this.opts.streams + 1);
    this.sending.add(job);
    job.then(
      () => this.sending.delete(job),
      (err: Error) => this.fail(err instanceof DamagedChunk ? err : new Error(`writing image ${name} to CRIU: ${err.message}`)),
    );
  }

  /** Every image stops at its next chunk: CRIU reads a short image, its restore fails, nothing runs. */
  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    stopControl(this.opts.addonPath, this.controlFds); // CRIU's next request fails too
    this.settle.reject(err);
  }
}

interface SenderHooks {
  /** Reads, checks and decodes chunk `c` into `slot` (a codec worker). */
  decode(c: ChunkEntry, slot: Slot): Promise<void>;
  /** True once the restore failed: stop before the next chunk. */
  stopped(): boolean;
  sent(bytes: number): void;
}

/**
 * Writes one image into CRIU's pipe `fd`, in order, while the next chunks are read,
 * checked and decompressed ahead in parallel (by the codec workers, into slots). Each
 * chunk is vmspliced into the pipe (no copy: the pipe holds the slot's pages), in
 * pieces by one job on libuv's pool (pipes.ts), so a slot is reused only once CRIU has
 * read it: when a pipe's worth more has gone in after it, or the pipe is drained at
 * the end of the image.
 */
class ImageSender {
  /** Chunks being decoded ahead, by their number in the image. */
  private readonly loads = new Map<number, { slot: Slot; decoded: Promise<void> }>();
  /** Slots the pipe may still hold pages of, each with the byte count after which it has been read. */
  private readonly inPipe: { slot: Slot; readBy: number }[] = [];
  private sentBytes = 0;
  private capacity = PIPE_SIZE;

  constructor(
    private readonly entry: ImageEntry,
    private readonly fd: number,
    private readonly addon: NativeHelper,
    private readonly slots: SlotPool,
    private readonly hooks: SenderHooks,
  ) {}

  async send(ahead: number): Promise<void> {
    this.capacity = Math.max(PIPE_SIZE, this.addon.setPipeSize(this.fd, PIPE_SIZE));
    const chunks = this.entry.chunks;
    try {
      for (let k = 0; k < Math.min(ahead, chunks.length); k++) this.prefetch(k);
      for (let k = 0; k < chunks.length; k++) {
        const { slot, decoded } = this.loads.get(k) as { slot: Slot; decoded: Promise<void> };
        await decoded;
        this.prefetch(k + ahead);
        if (this.hooks.stopped()) return;
        this.loads.delete(k);
        await this.sendChunk(slot, (chunks[k] as ChunkEntry).r);
      }
      await this.addon.drain(this.fd);
      this.releasePipe();
    } catch (err) {
      // CRIU closed the image early: it had read what it needed (or it failed, and says why),
      // or it is done while this image waited for bytes still arriving.
      // Nobody reads the pipe any more: its slots are free.
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE' && !(err instanceof ArrivalsStopped)) throw err;
      this.releasePipe();
    } finally {
      // After a failure CRIU may still read what the pipe holds: those slots are never reused.
      await close(this.fd).catch(() => {}); // CRIU reads the end of the image (or, after a failure, a short one)
      await this.releaseLoads();
    }
  }

  /** Starts checking and decoding chunk `k` (if there is one) into a slot of its own. */
  private prefetch(k: number): void {
    const c = this.entry.chunks[k];
    if (!c) return;
    const slot = this.slots.take();
    const decoded = this.hooks.decode(c, slot);
    decoded.catch(() => {}); // awaited in order by send()
    this.loads.set(k, { slot, decoded });
  }

  /** vmsplices a decoded chunk into the pipe and frees the slots CRIU has read by now. */
  private async sendChunk(slot: Slot, length: number): Promise<void> {
    const raw = slotBytes(slot, length);
    this.inPipe.push({ slot, readBy: this.sentBytes + raw.length + this.capacity });
    await this.addon.spliceAll(this.fd, raw, PIPE_PIECE);
    this.sentBytes += raw.length;
    while (this.inPipe[0] && this.inPipe[0].readBy <= this.sentBytes) this.slots.give((this.inPipe.shift() as { slot: Slot }).slot);
    this.hooks.sent(raw.length);
  }

  /** The pipe is empty or has no reader: every slot in it is free. */
  private releasePipe(): void {
    for (const { slot } of this.inPipe.splice(0)) this.slots.give(slot);
  }

  /** A slot being decoded into goes back only once no worker writes into it any more. */
  private async releaseLoads(): Promise<void> {
    for (const { slot, decoded } of this.loads.values()) {
      await decoded.then(
        () => this.slots.give(slot),
        () => this.slots.give(slot),
      );
    }
  }
}
