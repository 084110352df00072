/**
 * One object written as a multipart upload whose first part is sent last: the caller
 * reserves `reserve` bytes at the object's start (an archive's checkpoint.json, known only
 * once everything after it was packed) and hands them to `finish(head)`. S3 orders parts by
 * number, not by arrival, so part 1 (the head and the first bytes after it, kept in memory)
 * can follow parts 2..N. Every part but the last has `partSize` bytes (S3 wants 5 MiB or
 * more). At most `queue` parts are in flight; memory is about (queue + 2) x partSize.
 * An object smaller than one part is one PutObject at the end. Any failure aborts the
 * multipart upload, so no part of it is left in the bucket (or billed).
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
import type { ObjectUpload } from '@cedana/plugin-sdk';
import type { S3Location } from './s3-url.js';

export interface HeadUploadOptions {
  reserve: number;
  partSize: number;
  queue: number;
  signal?: AbortSignal | undefined;
  onBytes?: ((bytes: number) => void) | undefined;
  /** Turns an SDK failure into a coded error naming the object. */
  fail(err: unknown): Error;
}

export function headUpload(client: S3Client, loc: S3Location, opts: HeadUploadOptions): ObjectUpload {
  const { partSize, queue } = opts;
  const target = { Bucket: loc.bucket, Key: loc.key };
  /** Body bytes that go into part 1, after the head. */
  const firstBytes = Math.max(0, partSize - opts.reserve);
  let first: Buffer[] = [];
  let firstLength = 0;
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let nextPart = 2;
  let uploadId: Promise<string> | undefined;
  const parts: { PartNumber: number; ETag: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: Error | undefined;
  let uploaded = 0;

  const createUpload = () => {
    uploadId ??= client.send(new CreateMultipartUploadCommand(target), { abortSignal: opts.signal }).then((r) => r.UploadId as string);
    return uploadId;
  };
  const sendPart = (partNumber: number, body: Buffer): Promise<void> => {
    const sent = createUpload()
      .then((UploadId) =>
        client.send(new UploadPartCommand({ ...target, UploadId, PartNumber: partNumber, Body: body }), { abortSignal: opts.signal }),
      )
      .then((r) => {
        parts.push({ PartNumber: partNumber, ETag: r.ETag as string });
        uploaded += body.length;
        opts.onBytes?.(uploaded);
      })
      .catch((err: unknown) => {
        failure ??= opts.fail(err);
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
    return sent;
  };
  /** Sends full parts from `pending`; waits while `queue` parts are in flight. */
  const drain = async (all: boolean) => {
    while (pendingLength >= partSize || (all && pendingLength > 0)) {
      while (inFlight.size >= queue) await Promise.race(inFlight);
      if (failure) throw failure;
      const body = Buffer.concat(pending);
      const part = body.subarray(0, partSize);
      const rest = body.subarray(part.length);
      pending = rest.length > 0 ? [rest] : [];
      pendingLength = rest.length;
      void sendPart(nextPart++, Buffer.from(part));
    }
  };

  const stream = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      if (failure) return callback(failure);
      let data = chunk;
      if (firstLength < firstBytes) {
        const take = data.subarray(0, firstBytes - firstLength);
        first.push(take);
        firstLength += take.length;
        data = data.subarray(take.length);
      }
      if (data.length > 0) {
        pending.push(data);
        pendingLength += data.length;
      }
      drain(false).then(() => callback(), callback);
    },
    final(callback) {
      const waitAll = async () => {
        if (uploadId) await drain(true);
        await Promise.all(inFlight);
        if (failure) throw failure;
      };
      waitAll().then(() => callback(), callback);
    },
  });

  return {
    stream,
    async finish(head = Buffer.alloc(0)) {
      if (head.length !== opts.reserve) throw new Error(`the head is ${head.length} bytes, not the ${opts.reserve} reserved`);
      const part1 = Buffer.concat([head, ...first]);
      first = [];
      try {
        if (uploadId === undefined) {
          // Smaller than one part: everything is in memory (part 1 and what `pending` held).
          const body = Buffer.concat([part1, ...pending]);
          await client.send(new PutObjectCommand({ ...target, Body: body }), { abortSignal: opts.signal });
          opts.onBytes?.(body.length);
          return { size: body.length };
        }
        await sendPart(1, part1);
        if (failure) throw failure;
        const UploadId = await uploadId;
        parts.sort((a, b) => a.PartNumber - b.PartNumber);
        await client.send(new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }), {
          abortSignal: opts.signal,
        });
        return { size: uploaded };
      } catch (err) {
        throw opts.fail(err);
      }
    },
    async abort() {
      stream.destroy();
      await Promise.allSettled(inFlight);
      const id = await uploadId?.catch(() => undefined);
      if (id === undefined) return;
      // Without the signal: the abort must go out even when the request was cancelled.
      await client.send(new AbortMultipartUploadCommand({ ...target, UploadId: id })).catch(() => {});
    },
  };
}
