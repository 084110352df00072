/**
 * One stream's worker thread: for capture it compresses its stream's chunks and appends
 * them to its shard itself (nothing comes back but where each chunk went), for serve it
 * reads, checks and decompresses chunks, with the native helper's liblz4 (lz4block.c).
 * Raw chunks are in slots shared with the main thread (slots.ts); the compressed side
 * uses one buffer per direction, reused: nothing is allocated per chunk.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writevSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { bodyDigest, DamagedChunk, decodeChunk } from './chunk.js';
import { CHUNK_HEADER, type ChunkEntry, chunkHeader } from './format.js';
import { loadAddon } from './native.js';
import { PIPE_SIZE } from './pipes.js';

export type CodecRequest =
  | { id: number; op: 'append'; shard: string; slot: SharedArrayBuffer; length: number; image: number }
  | { id: number; op: 'finish' }
  | { id: number; op: 'decode'; path: string; image: number; name: string; chunk: ChunkEntry; slot: SharedArrayBuffer };

export type CodecReply =
  | { id: number; ok: true; sha256?: string; offset?: number; stored?: number }
  | { id: number; ok: false; message: string; damaged: boolean };

const lz4 = loadAddon((workerData as { addonPath: string }).addonPath);
const files = new Map<string, number>();
/** capture: where chunks are compressed to; serve: where stored chunks are read to. Grown as needed. */
let compressed = Buffer.alloc(0);
/** capture: this worker's shard, how much of it is written, and its running sha256. */
let shard: { fd: number; size: number; hash: Hash } | undefined;

function room(bytes: number): Buffer {
  if (compressed.length < bytes) compressed = Buffer.allocUnsafeSlow(bytes);
  return compressed;
}

/** A shard file, or (piped) the FIFO the daemon uploads from: a bigger pipe, fewer wakeups. */
function openShard(path: string): { fd: number; size: number; hash: Hash } {
  const fd = openSync(path, 'a');
  if (fstatSync(fd).isFIFO()) lz4.setPipeSize(fd, PIPE_SIZE);
  return { fd, size: 0, hash: createHash('sha256') };
}

/** Both buffers, whole: a write into a pipe may take part of them. */
function writeAll(fd: number, header: Uint8Array, body: Uint8Array): void {
  let rest = [header, body];
  while (rest.length > 0) {
    let n = writevSync(fd, rest);
    const left: Uint8Array[] = [];
    for (const b of rest) {
      if (n >= b.length) n -= b.length;
      else {
        left.push(b.subarray(n));
        n = 0;
      }
    }
    rest = left;
  }
}

function handle(req: CodecRequest): Omit<CodecReply & { ok: true }, 'id' | 'ok'> {
  if (req.op === 'append') {
    // Chunks come in the order of the shard: hash the whole shard as it is written, so the
    // daemon need not read it again.
    shard ??= openShard(req.shard);
    const out = room(lz4.compressBound(req.length));
    const stored = out.subarray(0, lz4.compress(new Uint8Array(req.slot, 0, req.length), out));
    const header = chunkHeader(req.image, req.length, stored.length);
    writeAll(shard.fd, header, stored);
    shard.hash.update(header).update(stored);
    const offset = shard.size;
    shard.size += header.length + stored.length;
    return { sha256: bodyDigest(stored), offset, stored: stored.length };
  }
  if (req.op === 'finish') {
    if (!shard) return { sha256: createHash('sha256').digest('hex') };
    closeSync(shard.fd);
    const sha256 = shard.hash.digest('hex');
    shard = undefined;
    return { sha256 };
  }
  const c = req.chunk;
  let fd = files.get(req.path);
  if (fd === undefined) {
    fd = openSync(req.path, 'r');
    files.set(req.path, fd);
  }
  const buf = room(CHUNK_HEADER + c.n).subarray(0, CHUNK_HEADER + c.n);
  decodeChunk(lz4, buf, readSync(fd, buf, 0, buf.length, c.o), req.image, req.name, c, Buffer.from(req.slot));
  return {};
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (req: CodecRequest | { op: 'close' }) => {
    if (req.op === 'close') {
      for (const fd of files.values()) closeSync(fd);
      files.clear();
      return;
    }
    try {
      port.postMessage({ id: req.id, ok: true, ...handle(req) } satisfies CodecReply);
    } catch (err) {
      port.postMessage({
        id: req.id,
        ok: false,
        message: (err as Error).message,
        damaged: err instanceof DamagedChunk,
      } satisfies CodecReply);
    }
  });
}
