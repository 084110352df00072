/**
 * One object written as a multipart upload from a FIXED pool of part buffers: the bytes
 * are copied (stream.write) or read straight (`parts`: a FIFO's reader fills them with no
 * copy at all) into the part being filled; a full part goes out as one UploadPart of that
 * very buffer, which comes back to the pool once S3 has it. The pool has `queue` buffers
 * (the one filling and those in flight), so an object holds at most queue x partSize bytes
 * (one part more when a head is reserved), allocated once: no part is ever concatenated or
 * copied again, and nothing is left for the GC to find. When every buffer is in flight the
 * writer waits (and the pipe behind it fills).
 *
 * A reserved head (an archive's checkpoint.json, known only once everything after it was
 * packed) is the start of part 1, which is kept and sent last: S3 orders parts by number,
 * not by arrival. An object smaller than one part is one PutObject at the end. Any failure
 * fails the stream (so a writer hears at once) and aborts the multipart upload, so no part
 * of it is left in the bucket (or billed).
 */
import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CedanaError, type ObjectUpload } from '@cedana/plugin-sdk';
import { type S3Location, s3Url } from './s3-url.js';

/** S3's most parts in one multipart upload. */
const MAX_PARTS = 10_000;

export interface PartUploadOptions {
  /** Bytes kept free at the object's start for `finish(head)` (0: none). */
  reserve: number;
  partSize: number;
  queue: number;
  signal?: AbortSignal | undefined;
  onBytes?: ((bytes: number) => void) | undefined;
  /** Turns an SDK failure into a coded error naming the object. */
  fail(err: unknown): Error;
}

interface Part {
  number: number;
  buf: Buffer;
  /** Bytes of `buf` that hold data (a reserved head counts from the start). */
  fill: number;
}

export function partUpload(client: S3Client, loc: S3Location, opts: PartUploadOptions): ObjectUpload {
  const { partSize, queue, reserve } = opts;
  const target = { Bucket: loc.bucket, Key: loc.key };
  const free: Buffer[] = [];
  let allocated = 0;
  /** Part 1 when a head is reserved: kept until finish(head). */
  let first: Part | undefined;
  let current: Part | undefined;
  let nextNumber = 1;
  let uploadId: Promise<string> | undefined;
  const done: { PartNumber: number; ETag: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  let waiting: (() => void)[] = [];
  let failure: Error | undefined;
  let uploaded = 0;
  let body = 0;

  const wake = () => {
    const woken = waiting;
    waiting = [];
    for (const w of woken) w();
  };
  const takeBuffer = (): Buffer | undefined => {
    const reused = free.pop();
    if (reused) return reused;
    if (allocated >= queue) return undefined;
    allocated++;
    // Outside Node's shared slab: each buffer is the part's own memory, freed with the upload.
    return Buffer.allocUnsafeSlow(partSize);
  };
  const createUpload = () => {
    uploadId ??= client.send(new CreateMultipartUploadCommand(target), { abortSignal: opts.signal }).then((r) => r.UploadId as string);
    return uploadId;
  };
  const fails = (err: unknown) => {
    failure ??= opts.fail(err);
    stream.destroy(failure);
    wake();
  };
  const send = (part: Part, keep = false): Promise<void> => {
    const sent = createUpload()
      .then((UploadId) =>
        client.send(new UploadPartCommand({ ...target, UploadId, PartNumber: part.number, Body: part.buf.subarray(0, part.fill) }), {
          abortSignal: opts.signal,
        }),
      )
      .then((r) => {
        done.push({ PartNumber: part.number, ETag: r.ETag as string });
        uploaded += part.fill;
        opts.onBytes?.(uploaded);
      })
      .catch(fails)
      .finally(() => {
        inFlight.delete(sent);
        if (!keep) free.push(part.buf);
        wake();
      });
    inFlight.add(sent);
    return sent;
  };
  /** The part being filled, a new one if a buffer is free. */
  const filling = (): Part | undefined => {
    if (current || failure) return current;
    if (nextNumber === 1 && reserve > 0) {
      // Part 1 is held until finish(head): its own buffer, the head's room at its start.
      current = { number: nextNumber++, buf: Buffer.allocUnsafeSlow(Math.max(partSize, reserve)), fill: reserve };
      if (current.fill === current.buf.length) seal(); // a head as big as a part: part 1 is the head alone
      return filling();
    }
    if (nextNumber > MAX_PARTS) {
      fails(
        new CedanaError(
          'CEDANA_ERR_INVALID_ARGUMENT',
          `${s3Url(loc)} needs more than S3's ${MAX_PARTS} parts of ${partSize >> 20} MiB: the object is larger than ${Math.floor((MAX_PARTS * partSize) / (1 << 30))} GiB`,
          { hint: 'raise storage.s3.part_size_mib (the largest object is 10000 parts), or dump with more --streams' },
        ),
      );
      return undefined;
    }
    const buf = takeBuffer();
    if (!buf) return undefined;
    current = { number: nextNumber++, buf, fill: 0 };
    return current;
  };
  /** The part being filled is full (or the last): out it goes, unless it is a held part 1. */
  const seal = () => {
    const part = current;
    current = undefined;
    if (!part) return;
    if (part.number === 1 && reserve > 0) {
      first = part;
      return;
    }
    void send(part);
  };
  const space = (): Buffer | undefined => {
    const part = filling();
    return part?.buf.subarray(part.fill);
  };
  const commit = (n: number) => {
    const part = current;
    if (!part || n > part.buf.length - part.fill) throw new Error(`${n} bytes committed to a part with less room`);
    part.fill += n;
    body += n;
    if (part.fill === part.buf.length) seal();
  };
  const ready = (): Promise<void> => {
    if (failure) return Promise.reject(failure);
    if (space()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      waiting.push(resolve);
    }).then(ready);
  };

  const stream = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      const copyIn = async () => {
        let at = 0;
        while (at < chunk.length) {
          const room = space() ?? (await ready().then(space));
          if (!room) continue;
          const n = chunk.copy(room, 0, at);
          at += n;
          commit(n);
        }
      };
      if (failure) return callback(failure);
      copyIn().then(() => callback(), callback);
    },
    final(callback) {
      const waitAll = async () => {
        // The last part goes now, unless it is the only one (one PutObject at finish).
        const only = current?.number === 1 && uploadId === undefined;
        if (current && current.fill === 0 && !only) {
          // A part taken for a read that never came (the pipe's end): no empty part is sent.
          free.push(current.buf);
          current = undefined;
        }
        if (!only) seal();
        while (inFlight.size > 0) await Promise.race(inFlight);
        if (failure) throw failure;
      };
      waitAll().then(() => callback(), callback);
    },
  });

  const release = () => {
    free.length = 0;
    first = undefined;
    current = undefined;
  };

  return {
    stream,
    parts: { space, commit, ready },
    async finish(head = Buffer.alloc(0)) {
      if (head.length !== reserve) throw new Error(`the head is ${head.length} bytes, not the ${reserve} reserved`);
      try {
        if (failure) throw failure;
        if (!stream.writableFinished) throw new Error('the upload was cut short: its stream did not finish');
        const one = first ?? current ?? { number: 1, buf: Buffer.alloc(reserve), fill: reserve };
        head.copy(one.buf, 0);
        if (uploadId === undefined) {
          // Smaller than one part: everything is in part 1.
          await client.send(new PutObjectCommand({ ...target, Body: one.buf.subarray(0, one.fill) }), { abortSignal: opts.signal });
          opts.onBytes?.(one.fill);
          return { size: one.fill };
        }
        if (first) await send(first, true);
        if (failure) throw failure;
        const UploadId = await uploadId;
        done.sort((a, b) => a.PartNumber - b.PartNumber);
        await client.send(new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: done } }), {
          abortSignal: opts.signal,
        });
        return { size: reserve + body };
      } catch (err) {
        throw opts.fail(err);
      } finally {
        release();
      }
    },
    async abort() {
      failure ??= new Error('upload aborted');
      stream.destroy();
      wake();
      await Promise.allSettled(inFlight);
      release();
      const id = await uploadId?.catch(() => undefined);
      if (id === undefined) return;
      // Without the signal: the abort must go out even when the request was cancelled.
      await client.send(new AbortMultipartUploadCommand({ ...target, UploadId: id })).catch(() => {});
    },
  };
}
