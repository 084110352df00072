/**
 * One stream's compressor: a worker thread that compresses chunks for capture, or
 * reads, checks and decompresses them for serve, with lz4-napi's synchronous calls.
 * Synchronous on purpose: lz4-napi's async calls allocate on libuv's threads and free
 * on the main thread, which its allocator does not give back (a 270 MiB restore grew
 * the process to 320 MiB). Results go back as transferred ArrayBuffers; see gc.ts for
 * the collections.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { compressSync } from 'lz4-napi';
import { DamagedChunk, decodeChunk } from './chunk.js';
import { CHUNK_HEADER, type ChunkEntry, chunkHeader } from './format.js';
import { collectEvery } from './gc.js';

export type CodecRequest =
  | { id: number; op: 'compress'; raw: ArrayBuffer; length: number; image: number }
  | { id: number; op: 'shardDigest' }
  | { id: number; op: 'decode'; path: string; image: number; name: string; chunk: ChunkEntry };

export type CodecReply =
  | { id: number; ok: true; data: ArrayBuffer; sha256?: string }
  | { id: number; ok: false; message: string; damaged: boolean };

const files = new Map<string, number>();
let handled = 0;
let shardHash = createHash('sha256');

function owned(buf: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(buf.length);
  new Uint8Array(out).set(buf);
  return out;
}

function handle(req: CodecRequest): { data: ArrayBuffer; sha256?: string } {
  if (req.op === 'compress') {
    // This worker compresses its stream's chunks in the order they are written to its shard:
    // it hashes the whole shard as it goes, so the daemon need not read it again.
    const stored = compressSync(Buffer.from(req.raw, 0, req.length));
    const header = chunkHeader(req.image, req.length, stored.length);
    shardHash.update(header).update(stored);
    const data = new ArrayBuffer(header.length + stored.length);
    const out = new Uint8Array(data);
    out.set(header);
    out.set(stored, header.length);
    return { data, sha256: createHash('sha256').update(stored).digest('hex') };
  }
  if (req.op === 'shardDigest') {
    const digest = shardHash.digest('hex');
    shardHash = createHash('sha256');
    return { data: new ArrayBuffer(0), sha256: digest };
  }
  const c = req.chunk;
  let fd = files.get(req.path);
  if (fd === undefined) {
    fd = openSync(req.path, 'r');
    files.set(req.path, fd);
  }
  const buf = Buffer.allocUnsafe(CHUNK_HEADER + c.n);
  const raw = decodeChunk(buf, readSync(fd, buf, 0, buf.length, c.o), req.image, req.name, c);
  return { data: owned(raw) };
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (req: CodecRequest | { op: 'close' }) => {
    if (req.op === 'close') {
      for (const fd of files.values()) closeSync(fd);
      files.clear();
      return;
    }
    collectEvery(++handled);
    try {
      const out = handle(req);
      port.postMessage({ id: req.id, ok: true, ...out } satisfies CodecReply, [out.data]);
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
