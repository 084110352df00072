/**
 * Restore side: serves each image CRIU asks for from the shards, by position (the
 * index says where every chunk is), reading, checking and decompressing several
 * chunks ahead in parallel across the shards. Every chunk's header and sha256 are
 * checked before CRIU gets a byte of it: a damaged shard fails the restore before the
 * restored process ever runs, and the error names the shard, the offset and the image.
 */
import { close as closeCb } from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { ShardStats, StreamStats } from './capture.js';
import { DamagedChunk } from './chunk.js';
import { CodecPool } from './codec-pool.js';
import type { ControlData, ControlEvent } from './control.js';
import { listenForCriu, stopControl } from './control.js';
import { type ChunkEntry, type ImageEntry, INDEX_FILE, parseIndex, type StreamIndex, shardName } from './format.js';
import { loadAddon } from './native.js';
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
}

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

const close = promisify(closeCb);

/**
 * Serves every CRIU run that connects until `opts.stopped`, then returns once the
 * images it was writing are done; rejects on the first damaged chunk.
 */
export async function serve(opts: ServeOptions): Promise<StreamStats> {
  const started = Date.now();
  const index = await readIndex(opts.dir, opts.streams);
  const files = await openShards(opts.dir, index);
  const pool = new CodecPool(opts.streams, opts.addonPath);
  const slots = new SlotPool();
  const listenFd = listenForCriu(opts.addonPath, opts.dir, 'serve');
  const controlFds: number[] = [listenFd];
  opts.onListening?.();
  const byName = new Map(index.images.map((entry, i) => [entry.name, i]));
  const rawTotal = index.images.reduce((sum, i) => sum + i.size, 0);
  const stats: ShardStats[] = index.shards.map((size, i) => ({ shard: shardName(i), rawBytes: 0, storedBytes: size, chunks: 0 }));
  for (const entry of index.images) {
    for (const c of entry.chunks) {
      const s = stats[c.s] as ShardStats;
      s.rawBytes += c.r;
      s.chunks++;
    }
  }
  const ahead = 2 * opts.streams + 1;
  let rawDone = 0;
  const serving = new Set<Promise<void>>();
  const addon = loadAddon(opts.addonPath);
  let failed = false;
  let stopping = false;

  /**
   * Writes image number `image` into CRIU's pipe `fd`, in order, while the next chunks
   * are read, checked and decompressed ahead in parallel (by the codec workers, into
   * slots). Each chunk is vmspliced into the pipe (no copy: the pipe holds the slot's
   * pages), in pieces by one job on libuv's pool (pipes.ts), so a slot is reused only
   * once CRIU has read it: when a pipe's worth more has gone in after it, or the pipe
   * is drained at the end of the image.
   */
  const sendImage = async (image: number, fd: number): Promise<void> => {
    const entry = index.images[image] as ImageEntry;
    const capacity = Math.max(PIPE_SIZE, addon.setPipeSize(fd, PIPE_SIZE));
    /** Slots the pipe may still hold pages of, each with the byte count after which it has been read. */
    const inPipe: { slot: Slot; readBy: number }[] = [];
    let sent = 0;
    const loads = new Map<number, { slot: Slot; decoded: Promise<void> }>();
    const load = (k: number) => {
      const c = entry.chunks[k];
      if (!c) return;
      const slot = slots.take();
      const decoded = pool.decode(join(opts.dir, shardName(c.s)), image, entry.name, c, slot);
      decoded.catch(() => {}); // awaited in order below
      loads.set(k, { slot, decoded });
    };
    try {
      for (let k = 0; k < Math.min(ahead, entry.chunks.length); k++) load(k);
      for (let k = 0; k < entry.chunks.length; k++) {
        const { slot, decoded } = loads.get(k) as { slot: Slot; decoded: Promise<void> };
        await decoded;
        load(k + ahead);
        if (failed) return;
        const raw = slotBytes(slot, (entry.chunks[k] as ChunkEntry).r);
        loads.delete(k);
        inPipe.push({ slot, readBy: sent + raw.length + capacity });
        await addon.spliceAll(fd, raw, PIPE_PIECE);
        sent += raw.length;
        while (inPipe[0] && inPipe[0].readBy <= sent) slots.give((inPipe.shift() as { slot: Slot }).slot);
        rawDone += raw.length;
        opts.onProgress?.(rawDone, rawTotal);
      }
      await addon.drain(fd);
      for (const { slot } of inPipe.splice(0)) slots.give(slot);
    } catch (err) {
      // CRIU closed the image early: it had read what it needed (or it failed, and says why).
      // Nobody reads the pipe any more: its slots are free.
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
      for (const { slot } of inPipe.splice(0)) slots.give(slot);
    } finally {
      // After a failure CRIU may still read what the pipe holds: those slots are never reused.
      await close(fd).catch(() => {}); // CRIU reads the end of the image (or, after a failure, a short one)
      // A slot goes back only once no worker writes into it any more.
      for (const { slot, decoded } of loads.values())
        await decoded.then(
          () => slots.give(slot),
          () => slots.give(slot),
        );
    }
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const worker = new Worker(new URL('./control.js', import.meta.url), {
        workerData: {
          listenFd,
          mode: 'serve',
          addonPath: opts.addonPath,
          images: index.images.map((i) => i.name),
        } satisfies ControlData,
      });
      const fail = (err: Error) => {
        if (failed) return;
        failed = true; // every image stops at its next chunk: CRIU reads a short image, its restore fails, nothing runs
        stopControl(opts.addonPath, controlFds); // CRIU's next request fails too
        reject(err);
      };
      worker.on('message', (e: ControlEvent) => {
        if (e.type === 'connected') controlFds.push(e.fd);
        else if (e.type === 'open') {
          const job = sendImage(byName.get(e.name) as number, e.fd);
          serving.add(job);
          job.then(
            () => serving.delete(job),
            (err: Error) => fail(err instanceof DamagedChunk ? err : new Error(`writing image ${e.name} to CRIU: ${err.message}`)),
          );
        } else if (e.type === 'error' && !stopping) fail(new Error(`talking to CRIU over its stream socket: ${e.message}`));
      });
      worker.on('error', fail);
      opts.stopped.then(() => {
        stopping = true; // the worker's accept fails once its socket is shut: that is the end, not an error
        stopControl(opts.addonPath, controlFds);
        Promise.all(serving).then(() => resolve(), fail);
      });
    });
  } finally {
    stopControl(opts.addonPath, controlFds);
    await Promise.allSettled(files.map((f) => f.close()));
    await pool.close();
  }
  return {
    images: index.images.length,
    rawBytes: rawDone,
    storedBytes: index.shards.reduce((a, b) => a + b, 0),
    durationMs: Date.now() - started,
    shards: stats,
  };
}
