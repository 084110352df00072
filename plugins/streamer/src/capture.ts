/**
 * Dump side: takes every image CRIU streams (control.ts hands over its pipe), cuts it
 * into chunks and hands them round robin to the N stream workers, each of which
 * compresses its chunks and appends them to its own shard: N shards written in
 * parallel. Nothing uncompressed is written, and at most a few chunks per stream are in
 * memory: when that many are in flight, reading CRIU's pipes pauses and CRIU waits.
 */
import { close as closeCb } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { CodecPool } from './codec-pool.js';
import type { ControlData, ControlEvent } from './control.js';
import { listenForCriu, stopControl } from './control.js';
import { CHUNK_HEADER, CHUNK_SIZE, type ImageEntry, INDEX_FILE, INDEX_FORMAT, type StreamIndex, shardName } from './format.js';
import { loadAddon } from './native.js';
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
  addonPath: string;
  /** Called once CRIU may connect. */
  onListening?(): void;
  onProgress?(rawBytes: number, storedBytes: number): void;
}

/** Runs until CRIU has closed every image and the index is written; rejects on the first failure. */
export async function capture(opts: CaptureOptions): Promise<StreamStats> {
  const started = Date.now();
  const shards: ShardStats[] = [];
  for (let i = 0; i < opts.streams; i++) {
    await (await open(join(opts.dir, shardName(i)), 'wx')).close(); // new, or the dump is refused
    shards.push({ shard: shardName(i), rawBytes: 0, storedBytes: 0, chunks: 0 });
  }
  const images: ImageEntry[] = [];
  /** CRIU's pipes being read, by fd. */
  const pipes = new Set<number>();
  const waiting: (() => void)[] = [];
  const pending = new Set<Promise<void>>();
  const maxInFlight = 2 * opts.streams + 2;
  let inFlight = 0;
  let chunkCount = 0;
  let failed: Error | undefined;
  let rawTotal = 0;
  let storedTotal = 0;

  const pool = new CodecPool(opts.streams, opts.addonPath);
  const slots = new SlotPool();
  const addon = loadAddon(opts.addonPath);
  const listenFd = listenForCriu(opts.addonPath, opts.dir, 'capture');
  const controlFds: number[] = [listenFd];
  opts.onListening?.();
  const result = new Promise<void>((resolve, reject) => {
    const worker = new Worker(new URL('./control.js', import.meta.url), {
      workerData: { listenFd, mode: 'capture', addonPath: opts.addonPath } satisfies ControlData,
    });
    let criuDone = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = err;
      // The readers stop at their next chunk and close their pipes: CRIU's next write fails, its dump
      // fails, and the process goes on.
      for (const wake of waiting.splice(0)) wake();
      stopControl(opts.addonPath, controlFds); // CRIU's next request fails too
      reject(err);
    };
    const maybeDone = () => {
      if (!criuDone || pipes.size > 0 || failed) return;
      Promise.all(pending).then(() => resolve(), fail);
    };

    const submit = (image: number, seq: number, slot: Slot, length: number) => {
      inFlight++;
      // Round robin: shards of equal share, so a restore reads them all at once.
      const stream = chunkCount++ % shards.length;
      const stats = shards[stream] as ShardStats;
      const job = (async () => {
        const { offset, stored, crc32 } = await pool
          .append(stream, join(opts.dir, stats.shard), image, slot, length)
          .finally(() => slots.give(slot));
        (images[image] as ImageEntry).chunks[seq] = { s: stream, o: offset, n: stored, r: length, c: crc32 };
        stats.rawBytes += length;
        stats.storedBytes += CHUNK_HEADER + stored;
        stats.chunks++;
        rawTotal += length;
        storedTotal += CHUNK_HEADER + stored;
        opts.onProgress?.(rawTotal, storedTotal);
      })();
      pending.add(job);
      job.then(
        () => {
          pending.delete(job);
          inFlight--;
          if (inFlight < maxInFlight) for (const wake of waiting.splice(0)) wake();
          maybeDone();
        },
        (err: Error) => fail(err),
      );
    };

    /** Room for one more chunk in flight (compressing or being written): until then reading waits, and so does CRIU. */
    const room = (): Promise<void> => (inFlight < maxInFlight || failed ? Promise.resolve() : new Promise((wake) => waiting.push(wake)));

    /**
     * Reads one image from its pipe straight into chunk slots, a chunk per job on
     * libuv's pool (pipes.ts), all of CRIU's open pipes at once: CRIU writes
     * pagemap-N.img and pages-N.img side by side.
     */
    const take = async (name: string, fd: number) => {
      const image = images.push({ name, size: 0, chunks: [] }) - 1;
      pipes.add(fd);
      addon.setPipeSize(fd, PIPE_SIZE);
      try {
        for (let seq = 0, eof = false; !eof; ) {
          await room();
          if (failed) break;
          const slot = slots.take();
          const buf = slotBytes(slot);
          let used = 0;
          try {
            used = await addon.readFull(fd, buf, PIPE_PIECE);
            eof = used < CHUNK_SIZE;
          } finally {
            if (used === 0) slots.give(slot);
          }
          (images[image] as ImageEntry).size += used;
          if (used > 0) submit(image, seq++, slot, used);
        }
      } catch (err) {
        fail(new Error(`reading image ${name} from CRIU: ${(err as Error).message}`));
      } finally {
        await close(fd).catch(() => {});
        pipes.delete(fd);
        maybeDone();
      }
    };

    worker.on('message', (e: ControlEvent) => {
      if (e.type === 'connected') controlFds.push(e.fd);
      else if (e.type === 'open') void take(e.name, e.fd);
      else if (e.type === 'end') {
        criuDone = true;
        maybeDone();
      } else if (e.type === 'error') fail(new Error(`talking to CRIU over its stream socket: ${e.message}`));
    });
    worker.on('error', fail);
  });

  try {
    await result;
    for (const [i, s] of shards.entries()) s.sha256 = await pool.finish(i);
    const index: StreamIndex = {
      format: INDEX_FORMAT,
      streams: opts.streams,
      compression: 'lz4',
      chunkSize: CHUNK_SIZE,
      images,
      shards: shards.map((s) => s.storedBytes),
    };
    await writeFile(join(opts.dir, INDEX_FILE), JSON.stringify(index));
    return {
      images: images.length,
      rawBytes: rawTotal,
      storedBytes: storedTotal,
      durationMs: Date.now() - started,
      shards,
    };
  } finally {
    stopControl(opts.addonPath, controlFds);
    await pool.close();
  }
}

const close = promisify(closeCb);
