/**
 * sha256 on worker threads, so that hashing neither holds the daemon's event loop
 * nor waits for it: a main thread busy hashing starves the LZ4 and file stages it
 * feeds. hashFiles hashes whole files, one per core at once, the largest first (one
 * pages-N.img per process of a tree); files under INLINE_BYTES (logs, small images,
 * a stream index) are hashed on the calling thread instead: well under a millisecond
 * each, where starting a worker costs ~40 ms. A StreamHash hashes bytes the caller already
 * has in memory (the packer's reads, the extractor's writes), copied to the worker.
 * Workers start on first use; up to one per core stay for IDLE_MS after their last
 * work (about 11 MiB each, plus their 8 MiB ring), and they keep the process alive
 * only while they have work.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { digestFile, digestSmallFile, type FileDigest } from './file-digest.js';
import type { HashReply, HashRequest } from './hash-worker.js';
import type { PieceSpec } from './piece-digests.js';

const WORKER_URL = new URL('./hash-worker.js', import.meta.url);
const LANES = Math.max(1, Math.min(availableParallelism(), 4));
/**
 * Each worker has a ring of slots in shared memory that a StreamHash copies its bytes
 * into: memory stays fixed, and a caller that outruns the worker waits for a free slot.
 */
const SLOT_BYTES = 1 << 20;
const SLOTS = 8;
/** Files smaller than this are hashed on the calling thread. */
const INLINE_BYTES = 1 << 20;
/** Small files hashed at once on the calling thread. */
const INLINE_LANES = 8;
/** An idle worker is stopped after this long. */
const IDLE_MS = 30_000;

/** Gets every reply to one request id; returns true from onReply when it expects no more. */
interface Listener {
  onReply(reply: HashReply): boolean;
  onError(err: Error): void;
}

/** One worker and who waits for its replies, by request id. */
class HashWorker {
  readonly #worker = new Worker(WORKER_URL);
  readonly #listeners = new Map<number, Listener>();
  /** Slots of the ring (SLOTS x SLOT_BYTES), for the one StreamHash that uses this worker at a time. */
  readonly ring = new Uint8Array(new SharedArrayBuffer(SLOTS * SLOT_BYTES));
  #dead: Error | undefined;

  constructor() {
    this.#worker.unref();
    this.#worker.postMessage({ op: 'ring', ring: this.ring.buffer as SharedArrayBuffer, slotBytes: SLOT_BYTES } satisfies HashRequest);
    this.#worker.on('message', (reply: HashReply) => {
      const listener = this.#listeners.get(reply.id);
      if (listener?.onReply(reply)) this.#forget(reply.id);
    });
    const die = (err: Error) => {
      this.#dead ??= err;
      for (const [id, listener] of this.#listeners) {
        this.#forget(id);
        listener.onError(err);
      }
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`a hashing worker exited with code ${code}`)));
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /** Stops the thread; what still waits for it fails. */
  stop(): void {
    this.#dead ??= new Error('the hashing worker was stopped');
    void this.#worker.terminate();
  }

  /** Routes the replies to `id` to `listener`; the worker keeps the process alive meanwhile. */
  listen(id: number, listener: Listener): void {
    if (this.#dead) {
      listener.onError(this.#dead);
      return;
    }
    if (this.#listeners.size === 0) this.#worker.ref();
    this.#listeners.set(id, listener);
  }

  post(req: HashRequest): void {
    if (!this.#dead) this.#worker.postMessage(req);
  }

  /** Sends `req` and resolves with the one reply it gets. */
  request(req: Extract<HashRequest, { id: number }>): Promise<HashReply> {
    return new Promise((resolve, reject) => {
      this.listen(req.id, {
        onReply: (reply) => {
          resolve(reply);
          return true;
        },
        onError: reject,
      });
      this.post(req);
    });
  }

  #forget(id: number): void {
    this.#listeners.delete(id);
    if (this.#listeners.size === 0) this.#worker.unref();
  }
}

/** Idle workers, each with the timer that stops it. */
const idle: { worker: HashWorker; timer: NodeJS.Timeout }[] = [];
let nextId = 0;

function acquire(): HashWorker {
  for (let entry = idle.pop(); entry !== undefined; entry = idle.pop()) {
    clearTimeout(entry.timer);
    if (!entry.worker.dead) return entry.worker;
  }
  return new HashWorker();
}

/** Keeps up to LANES idle workers for a while; more were only needed while several dumps or restores hashed at once. */
function release(worker: HashWorker): void {
  if (worker.dead) return;
  if (idle.length >= LANES) {
    worker.stop();
    return;
  }
  const entry = {
    worker,
    timer: setTimeout(() => {
      const at = idle.indexOf(entry);
      if (at >= 0) idle.splice(at, 1);
      worker.stop();
    }, IDLE_MS).unref(),
  };
  idle.push(entry);
}

function digestOf(reply: HashReply, path?: string): FileDigest {
  if ('digest' in reply) return reply.digest;
  if ('error' in reply) throw Object.assign(new Error(reply.error.message), { code: reply.error.code, path });
  throw new Error('a hashing worker answered out of turn');
}

/**
 * The size and sha256 of each of `files` (name -> size, which only orders the work), under
 * `dir`; the pieces' digests too of those `piecesOf` asks them of.
 */
export async function hashFiles(
  dir: string,
  files: Record<string, number>,
  piecesOf: (name: string) => PieceSpec | undefined = () => undefined,
): Promise<Record<string, FileDigest>> {
  const names = Object.keys(files);
  const small = names.filter((name) => (files[name] ?? 0) < INLINE_BYTES);
  const queue = names.filter((name) => !small.includes(name)).sort((a, b) => (files[b] ?? 0) - (files[a] ?? 0));
  const digests: Record<string, FileDigest> = {};
  // A few at once: each is reads one after the other, and on a loaded machine every read waits for a CPU.
  const inline = () =>
    Promise.all(
      Array.from({ length: Math.min(INLINE_LANES, small.length) }, async () => {
        for (let name = small.shift(); name !== undefined; name = small.shift()) {
          const pieces = piecesOf(name); // a small job's page file is small too
          digests[name] = await (pieces ? digestFile(join(dir, name), pieces) : digestSmallFile(join(dir, name), files[name] ?? 0));
        }
      }),
    );
  const lane = async () => {
    const worker = acquire();
    try {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const path = join(dir, name);
        digests[name] = digestOf(await worker.request({ op: 'file', id: nextId++, path, pieces: piecesOf(name) }), path);
      }
    } finally {
      release(worker);
    }
  };
  await Promise.all([inline(), ...Array.from({ length: Math.min(LANES, queue.length) }, lane)]);
  return Object.fromEntries(Object.keys(files).map((name) => [name, digests[name] as FileDigest]));
}

/** Incremental sha256 (and pieces' digests, with `pieces`) on a worker; feed it in order, then take digest() once, or abort(). */
export class StreamHash {
  readonly #pieces: PieceSpec | undefined;
  #started = false;
  readonly #id = nextId++;
  readonly #worker = acquire();
  /** Ring slots not holding bytes the worker has yet to hash. */
  readonly #free = Array.from({ length: SLOTS }, (_, i) => i);
  #size = 0;
  #failed: Error | undefined;
  #slotFreed: (() => void) | undefined;
  #final: ((reply: HashReply) => void) | undefined;
  #released = false;

  constructor(pieces?: PieceSpec) {
    this.#pieces = pieces;
    this.#worker.listen(this.#id, {
      onReply: (reply) => {
        if (!('slot' in reply)) {
          this.#final?.(reply);
          return true;
        }
        this.#free.push(reply.slot);
        this.#wake();
        return false;
      },
      onError: (err) => {
        this.#failed ??= err;
        this.#wake();
        this.#final?.({ id: this.#id, error: { message: err.message } });
      },
    });
  }

  /**
   * Hashes `chunk` (copied to the worker's ring). Returns a promise only when it has to
   * wait for the worker; call update() again only once that promise resolved.
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
    for (let at = 0; at < chunk.length; ) {
      if (this.#failed) return Promise.reject(this.#failed);
      const slot = this.#free.pop();
      if (slot === undefined) {
        const rest = chunk.subarray(at);
        return new Promise<void>((resolve) => {
          this.#slotFreed = resolve;
        }).then(() => this.update(rest));
      }
      const piece = chunk.subarray(at, at + SLOT_BYTES);
      this.#worker.ring.set(piece, slot * SLOT_BYTES);
      const first = !this.#started;
      this.#started = true;
      this.#worker.post({ op: 'data', id: this.#id, slot, length: piece.length, ...(first && { pieces: this.#pieces }) });
      this.#size += piece.length;
      at += piece.length;
    }
    return undefined;
  }

  async digest(): Promise<FileDigest> {
    try {
      if (this.#failed) throw this.#failed;
      const digest = digestOf(await this.#end());
      if (digest.size !== this.#size) throw new Error(`the hashing worker saw ${digest.size} of ${this.#size} bytes`);
      return digest;
    } finally {
      this.#release();
    }
  }

  /** Gives the worker back without a digest (the caller failed); does nothing after digest(). */
  abort(): void {
    if (this.#released || this.#final) return;
    this.#end().then(() => this.#release());
  }

  /** Ends the stream in the worker, which answers once it hashed everything before; resolves with that answer. */
  #end(): Promise<HashReply> {
    const reply = new Promise<HashReply>((resolve) => {
      this.#final = resolve;
    });
    if (this.#failed) this.#final?.({ id: this.#id, error: { message: this.#failed.message } });
    else this.#worker.post({ op: 'end', id: this.#id, ...(!this.#started && { pieces: this.#pieces }) });
    return reply;
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    release(this.#worker);
  }

  #wake(): void {
    const slotFreed = this.#slotFreed;
    this.#slotFreed = undefined;
    slotFreed?.();
  }
}
