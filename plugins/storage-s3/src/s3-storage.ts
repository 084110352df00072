/**
 * The CheckpointStorage of s3:// URLs: what the daemon calls to write, read, list and
 * remove a checkpoint's objects. Uploads with a reserved head (archives) go through
 * head-upload.ts; plain objects (checkpoint.json, a folder checkpoint's files) through
 * lib-storage's Upload; downloads through ranged-download.ts.
 */
import { Transform } from 'node:stream';
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type CheckpointStorage, type Config, isCedanaError, type ObjectUpload, type StorageClient } from '@cedana/plugin-sdk';
import { headUpload } from './head-upload.js';
import { rangedDownload, rangedReader } from './ranged-download.js';
import { s3Settings } from './s3-client.js';
import { storageError } from './s3-errors.js';
import { parseS3Url, SCHEME, s3Url } from './s3-url.js';

export const s3Storage: CheckpointStorage = {
  scheme: SCHEME,
  open(config: Config): StorageClient {
    const s = s3Settings(config);
    const fail = (what: string, transfer: boolean) => (err: unknown) => storageError(err, what, { endpoint: s.endpoint, transfer });

    const client: StorageClient = {
      async check(url) {
        const loc = parseS3Url(url);
        // A prefix nothing has: the answer says whether the bucket exists and the keys may list it, and costs nothing.
        const probe = `${loc.key === '' ? '' : `${loc.key}/`}.cedana-check/`;
        const list = () => s.client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: probe }));
        try {
          await list();
        } catch (err) {
          const failure = storageError(err, `listing ${url}`, { endpoint: s.endpoint });
          if (failure.code !== 'CEDANA_ERR_STORAGE_BUCKET_MISSING' || !s.createBucket) throw failure;
          await s.client
            .send(new CreateBucketCommand({ Bucket: loc.bucket }))
            .catch((e: unknown) => Promise.reject(storageError(e, `creating the bucket s3://${loc.bucket}`, { endpoint: s.endpoint })));
        }
      },

      upload(url, opts = {}): ObjectUpload {
        const loc = parseS3Url(url);
        const what = `uploading ${url}`;
        if (opts.reserve) {
          return headUpload(s.client, loc, {
            ...opts,
            reserve: opts.reserve,
            partSize: s.partSize,
            queue: s.queue,
            fail: fail(what, true),
          });
        }
        let bytes = 0;
        const stream = new Transform({
          highWaterMark: 1 << 20,
          transform(chunk: Buffer, _encoding, callback) {
            bytes += chunk.length;
            callback(null, chunk);
          },
        });
        const upload = new Upload({
          client: s.client,
          params: { Bucket: loc.bucket, Key: loc.key, Body: stream },
          partSize: s.partSize,
          queueSize: s.queue,
          leavePartsOnError: false,
          ...(opts.signal && { abortController: abortControllerOf(opts.signal) }),
        });
        upload.on('httpUploadProgress', (p) => opts.onBytes?.(p.loaded ?? 0));
        const done = upload.done();
        // A failed upload fails its stream too, so a writer waiting on it hears at once (awaited by finish()).
        done.catch((err: unknown) => stream.destroy(fail(what, true)(err)));
        return {
          stream,
          async finish() {
            try {
              await done;
            } catch (err) {
              throw fail(what, true)(err);
            }
            return { size: bytes };
          },
          async abort() {
            stream.destroy();
            await upload.abort().catch(() => {});
            await done.catch(() => {});
          },
        };
      },

      download(url, opts = {}) {
        const loc = parseS3Url(url);
        return rangedDownload(s.client, loc, {
          ...opts,
          partSize: s.partSize,
          queue: s.queue,
          fail: (err, transfer) => storageError(err, `downloading ${url}`, { endpoint: s.endpoint, transfer }),
        });
      },

      async openRanges(url, opts = {}) {
        const loc = parseS3Url(url);
        const wrap = (err: unknown, transfer: boolean) => storageError(err, `downloading ${url}`, { endpoint: s.endpoint, transfer });
        const reader = await rangedReader(s.client, loc, { ...opts, fail: wrap });
        return {
          size: reader.size,
          partSize: s.partSize,
          queue: s.queue,
          read: (start, end, onBytes) => reader.readTo(start, end, onBytes).catch((err: unknown) => Promise.reject(wrap(err, true))),
        };
      },

      async list(url) {
        const loc = parseS3Url(url);
        const prefix = loc.key === '' ? '' : `${loc.key}/`;
        const found: { url: string; size: number }[] = [];
        let token: string | undefined;
        do {
          const r = await s.client
            .send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: prefix, ContinuationToken: token }))
            .catch((err: unknown) => Promise.reject(storageError(err, `listing ${url}`, { endpoint: s.endpoint })));
          for (const o of r.Contents ?? []) found.push({ url: s3Url({ bucket: loc.bucket, key: o.Key as string }), size: o.Size ?? 0 });
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
        return found;
      },

      async remove(urls) {
        const byBucket = new Map<string, string[]>();
        for (const url of urls) {
          const loc = parseS3Url(url);
          byBucket.set(loc.bucket, [...(byBucket.get(loc.bucket) ?? []), loc.key]);
        }
        for (const [bucket, keys] of byBucket) {
          for (let i = 0; i < keys.length; i += 1000) {
            const Objects = keys.slice(i, i + 1000).map((Key) => ({ Key }));
            const r = await s.client
              .send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects, Quiet: true } }))
              .catch((err: unknown) => Promise.reject(storageError(err, `deleting objects of s3://${bucket}`, { endpoint: s.endpoint })));
            const failed = r.Errors?.[0];
            if (failed) {
              throw isCedanaError(failed)
                ? failed
                : storageError({ name: failed.Code, message: failed.Message }, `deleting s3://${bucket}/${failed.Key}`, {
                    endpoint: s.endpoint,
                  });
            }
          }
        }
      },
    };
    return client;
  },
};

function abortControllerOf(signal: AbortSignal): AbortController {
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller;
}
