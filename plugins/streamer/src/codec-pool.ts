/**
 * One codec worker (codec-worker.ts) per stream; calls name the stream whose worker does
 * the work. Chunks travel in shared slots (slots.ts): a call lends the worker a slot and
 * resolves when the worker is done with it. A streamer waiting for its job starts a few
 * workers ahead (prewarm): starting one takes ~25 ms, which a small dump would wait for.
 */
import { Worker } from 'node:worker_threads';
import { DamagedChunk } from './chunk.js';
import type { CodecReply, CodecRequest } from './codec-worker.js';
import type { ChunkEntry } from './format.js';
import type { Slot } from './slots.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const WORKER_URL = new URL('./codec-worker.js', import.meta.url);
/** Workers started before there was a pool for them, taken first by the next one. */
const warm: Worker[] = [];

/** Starts `count` workers now, for the next pool to take. */
export function prewarm(addonPath: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const w = new Worker(WORKER_URL, { workerData: { addonPath } });
    w.on('error', () => {}); // its exit takes it off the list
    w.once('exit', () => {
      const at = warm.indexOf(w);
      if (at >= 0) warm.splice(at, 1);
    });
    w.unref(); // an unused one does not keep the streamer alive
    warm.push(w);
  }
}
type Pending = { resolve(r: CodecReply & { ok: true }): void; reject(e: Error): void };

export class CodecPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** `addonPath`: the native helper, whose lz4 the workers use. */
  constructor(size: number, addonPath: string) {
    this.workers = Array.from({ length: size }, () => {
      const w = warm.shift() ?? new Worker(WORKER_URL, { workerData: { addonPath } });
      w.ref();
      w.on('message', (r: CodecReply) => {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        if (!p) return;
        if (r.ok) p.resolve(r);
        else p.reject(r.damaged ? new DamagedChunk(r.message) : new Error(r.message));
      });
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      return w;
    });
  }

  private call(stream: number, req: WithoutId<CodecRequest>): Promise<CodecReply & { ok: true }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      (this.workers[stream % this.workers.length] as Worker).postMessage({ ...req, id });
    });
  }

  /**
   * Compresses the first `length` bytes of `slot`, a chunk of image number `image`, and
   * appends it to `stream`'s shard at `shardPath` (the worker writes it); returns where it
   * went and the body's sha256. The slot is free again once this resolves.
   */
  async append(
    stream: number,
    shardPath: string,
    image: number,
    slot: Slot,
    length: number,
  ): Promise<{ offset: number; stored: number; sha256: string }> {
    const r = await this.call(stream, { op: 'append', shard: shardPath, slot: slot.buffer, length, image });
    return { offset: r.offset as number, stored: r.stored as number, sha256: r.sha256 as string };
  }

  /** Closes `stream`'s shard after every append before this call; its sha256. */
  async finish(stream: number): Promise<string> {
    return (await this.call(stream, { op: 'finish' })).sha256 as string;
  }

  /** Reads chunk `chunk` of image number `image` from the shard at `path`, checks it and decompresses it into `slot`. */
  async decode(path: string, image: number, name: string, chunk: ChunkEntry, slot: Slot): Promise<void> {
    await this.call(chunk.s, { op: 'decode', path, image, name, chunk, slot: slot.buffer });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
