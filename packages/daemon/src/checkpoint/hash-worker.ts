/**
 * A hashing worker of hash-pool.ts. Requests, each answered by `{ id, digest }` or
 * `{ id, error }` unless noted:
 *   { op: 'ring', ring, slotBytes }  the shared buffer streams hand their bytes over in; no answer
 *   { op: 'file', id, path, pieces? } hash the file at `path` (and its pieces: piece-digests.ts)
 *   { op: 'data', id, slot, length, pieces? } add that many bytes of ring slot `slot` to stream `id`
 *                                    (started by its first data, which says what to compute);
 *                                    answered by `{ id, slot }` once the slot is free again
 *   { op: 'end', id }                the digest of stream `id`
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { digestFile, type FileDigest } from './file-digest.js';
import { PieceHasher, type PieceSpec } from './piece-digests.js';

export type HashRequest =
  | { op: 'ring'; ring: SharedArrayBuffer; slotBytes: number }
  | { op: 'file'; id: number; path: string; pieces?: PieceSpec | undefined }
  | { op: 'data'; id: number; slot: number; length: number; pieces?: PieceSpec | undefined }
  | { op: 'end'; id: number; pieces?: PieceSpec | undefined };

export type HashReply =
  | { id: number; digest: FileDigest }
  | { id: number; slot: number }
  | { id: number; error: { message: string; code?: string } };

const port = parentPort;
const streams = new Map<number, { hash: Hash | undefined; pieces: PieceHasher | undefined; size: number }>();
let ring: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
let slotBytes = 0;

port?.on('message', (req: HashRequest) => {
  const reply = (r: HashReply) => port.postMessage(r);
  if (req.op === 'ring') {
    ring = new Uint8Array(req.ring);
    slotBytes = req.slotBytes;
    return;
  }
  if (req.op === 'file') {
    digestFile(req.path, req.pieces).then(
      (digest) => reply({ id: req.id, digest }),
      (err: NodeJS.ErrnoException) => reply({ id: req.id, error: { message: err.message, ...(err.code && { code: err.code }) } }),
    );
    return;
  }
  let stream = streams.get(req.id);
  if (stream === undefined) {
    const pieces = req.pieces;
    const hash = pieces?.sha256 === false ? undefined : createHash('sha256');
    stream = { hash, pieces: pieces && new PieceHasher(pieces.addon), size: 0 };
    streams.set(req.id, stream);
  }
  if (req.op === 'data') {
    const at = req.slot * slotBytes;
    const bytes = ring.subarray(at, at + req.length);
    stream.hash?.update(bytes);
    stream.pieces?.update(bytes);
    stream.size += req.length;
    reply({ id: req.id, slot: req.slot });
  } else {
    streams.delete(req.id);
    const pieces = stream.pieces?.finish();
    reply({ id: req.id, digest: { size: stream.size, sha256: stream.hash?.digest('hex') ?? '', ...(pieces && { pieces }) } });
  }
});
