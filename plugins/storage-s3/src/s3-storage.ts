/**
 * The CheckpointStorage of s3:// URLs: what the daemon calls to write, read, list and
 * remove a checkpoint's objects. Uploads (archives with their reserved head, a folder
 * checkpoint's files, the shards piped as they are written) go through part-upload.ts, a
 * fixed pool of part buffers; downloads through ranged-download.ts.
 */
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type CheckpointStorage, type Config, isCedanaError, type ObjectUpload, type StorageClient } from '@cedana/plugin-sdk';
import { partUpload } from './part-upload.js';
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
        return partUpload(s.client, parseS3Url(url), {
          ...opts,
          reserve: opts.reserve ?? 0,
          partSize: s.partSize,
          queue: s.queue,
          fail: fail(`uploading ${url}`, true),
        });
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
