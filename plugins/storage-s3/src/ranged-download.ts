/**
 * One object read as ranged GETs of `partSize` bytes, `queue` of them in flight, handed
 * on in order: a Readable the daemon pipes into its decoder and extractor as it would a
 * local archive. Every range asks for the ETag the object had when it was opened, so an
 * object replaced meanwhile fails instead of mixing two versions. Memory is about
 * queue x partSize.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CedanaError, type ObjectDownload } from '@cedana/plugin-sdk';
import { isNotFound } from './s3-errors.js';
import { type S3Location, s3Url } from './s3-url.js';

export interface RangedDownloadOptions {
  partSize: number;
  queue: number;
  signal?: AbortSignal | undefined;
  onBytes?: ((bytes: number) => void) | undefined;
  fail(err: unknown, transfer: boolean): Error;
}

export async function rangedDownload(client: S3Client, loc: S3Location, opts: RangedDownloadOptions): Promise<ObjectDownload> {
  const { size, read } = await rangedReader(client, loc, opts);
  const { partSize, queue } = opts;
  let done = 0;
  const getRange = (start: number, end: number) => read(start, end + 1);

  async function* ranges(): AsyncGenerator<Buffer> {
    const inFlight: Promise<Buffer>[] = [];
    let offset = 0;
    const fill = () => {
      while (inFlight.length < queue && offset < size) {
        const start = offset;
        const end = Math.min(size, start + partSize) - 1;
        offset = end + 1;
        const got = getRange(start, end);
        got.catch(() => {}); // awaited in order below
        inFlight.push(got);
      }
    };
    fill();
    while (inFlight.length > 0) {
      let bytes: Buffer;
      try {
        bytes = await (inFlight.shift() as Promise<Buffer>);
      } catch (err) {
        throw opts.fail(err, true);
      }
      fill();
      done += bytes.length;
      opts.onBytes?.(done);
      yield bytes;
    }
  }

  return { size, stream: Readable.from(ranges(), { objectMode: false, highWaterMark: 1 << 20 }) };
}

/**
 * The object's size (HEAD) and a reader of its bytes [start, end) by one ranged GET each
 * (whole, or handed on as they come, never held: readTo),
 * every one asking for the ETag seen by the HEAD: a missing object fails naming it, a
 * replaced or truncated one fails on the range that sees it.
 */
export async function rangedReader(
  client: S3Client,
  loc: S3Location,
  opts: Pick<RangedDownloadOptions, 'signal' | 'fail'>,
): Promise<{
  size: number;
  read(start: number, end: number): Promise<Buffer>;
  readTo(start: number, end: number, onBytes: (bytes: Buffer, at: number) => Promise<void>): Promise<void>;
}> {
  const target = { Bucket: loc.bucket, Key: loc.key };
  const head = await client.send(new HeadObjectCommand(target), { abortSignal: opts.signal }).catch((err: unknown) => {
    if (isNotFound(err)) {
      throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `the object ${s3Url(loc)} is missing: the checkpoint is incomplete`, {
        hint: 'the objects of a checkpoint are removed together with `cedana checkpoint delete`; restore another checkpoint',
        cause: err,
      });
    }
    throw opts.fail(err, false);
  });
  const etag = head.ETag;
  const get = (start: number, end: number) =>
    client.send(new GetObjectCommand({ ...target, Range: `bytes=${start}-${end - 1}`, IfMatch: etag }), { abortSignal: opts.signal });
  const short = (got: number, start: number, end: number) =>
    new CedanaError(
      'CEDANA_ERR_CHECKPOINT_INVALID',
      `${s3Url(loc)} answered ${got} bytes for bytes ${start}-${end - 1}: the object is truncated`,
    );
  const read = async (start: number, end: number): Promise<Buffer> => {
    const body = (await (await get(start, end)).Body?.transformToByteArray()) ?? new Uint8Array();
    if (body.length !== end - start) throw short(body.length, start, end);
    return Buffer.from(body.buffer, body.byteOffset, body.length); // no copy
  };
  const readTo = async (start: number, end: number, onBytes: (bytes: Buffer, at: number) => Promise<void>): Promise<void> => {
    const body = (await get(start, end)).Body as AsyncIterable<Uint8Array> | undefined;
    let at = start;
    for await (const chunk of body ?? []) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, end - at));
      if (bytes.length > 0) await onBytes(bytes, at);
      at += chunk.length;
    }
    if (at !== end) throw short(at - start, start, end);
  };
  return { size: head.ContentLength ?? 0, read, readTo };
}
