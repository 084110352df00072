import assert from 'node:assert/strict';
import { lstat, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { CedanaError, type ObjectUpload, type StorageClient } from '@cedana/core';
import { liveUploads } from './remote-live.js';

/**
 * A bucket in memory: each upload collects its bytes; `failAfter` makes an upload fail (as a
 * cut connection does) once that many bytes came, its stream first, its finish() with the reason.
 */
function memoryBucket(failAfter = Number.POSITIVE_INFINITY) {
  const objects = new Map<string, Buffer>();
  const removed: string[] = [];
  const client: StorageClient = {
    check: async () => {},
    download: () => {
      throw new Error('not used');
    },
    openRanges: () => {
      throw new Error('not used');
    },
    list: async () => [],
    remove: async (urls) => {
      removed.push(...urls);
      for (const u of urls) objects.delete(u);
    },
    upload(url): ObjectUpload {
      const parts: Buffer[] = [];
      let size = 0;
      let failure: Error | undefined;
      const stream = new Writable({
        write(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          parts.push(chunk);
          if (size > failAfter) {
            failure = new CedanaError('CEDANA_ERR_STORAGE_INTERRUPTED', `uploading ${url} failed: lost the connection`);
            return cb(failure);
          }
          cb();
        },
      });
      return {
        stream,
        finish: async () => {
          if (failure) throw failure;
          if (!stream.writableFinished) throw new Error('the body ended early');
          objects.set(url, Buffer.concat(parts));
          return { size };
        },
        abort: async () => {
          stream.destroy();
        },
      };
    },
  };
  return { client, objects, removed };
}

/**
 * A bucket in memory whose uploads lend their part buffers (as the S3 storage does): `pool`
 * buffers of `part` bytes, each "in flight" for a few ms once full. Counts the waits for one.
 */
function lendingBucket(pool: number, part: number) {
  const bucket = memoryBucket();
  const waits = { count: 0 };
  const upload = bucket.client.upload.bind(bucket.client);
  bucket.client.upload = (url, opts) => {
    const up = upload(url, opts);
    const free: Buffer[] = Array.from({ length: pool }, () => Buffer.alloc(part));
    let current: { buf: Buffer; fill: number } | undefined;
    const woken: (() => void)[] = [];
    const sent: Promise<void>[] = [];
    const send = (p: { buf: Buffer; fill: number }) => {
      const body = Buffer.from(p.buf.subarray(0, p.fill)); // the "server's" copy
      sent.push(
        new Promise<void>((resolve) => setTimeout(resolve, 5)).then(() => {
          up.stream.write(body);
          free.push(p.buf);
          for (const w of woken.splice(0)) w();
        }),
      );
    };
    const space = () => {
      if (!current) {
        const buf = free.pop();
        if (buf) current = { buf, fill: 0 };
      }
      return current?.buf.subarray(current.fill);
    };
    const stream = new Writable({
      write: (_c, _e, cb) => cb(new Error('written, not filled')),
      final(cb) {
        if (current && current.fill > 0) send(current);
        Promise.all(sent).then(() => up.stream.end(cb), cb);
      },
    });
    return {
      ...up,
      stream,
      parts: {
        space,
        commit(n) {
          if (!current || current.fill + n > part) throw new Error('committed past the part');
          current.fill += n;
          if (current.fill === part) {
            send(current);
            current = undefined;
          }
        },
        ready: () =>
          space()
            ? Promise.resolve()
            : new Promise<void>((resolve) => {
                waits.count++;
                woken.push(resolve);
              }),
      },
    };
  };
  return { ...bucket, waits };
}

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

describe('liveUploads (files uploaded as they are written, through FIFOs)', () => {
  it('uploads what a writer puts into each FIFO; a file no writer opened is an empty object; nothing stays on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cedana-live-'));
    try {
      const bucket = memoryBucket();
      const live = liveUploads(bucket.client, 's3://b/p/ckpt', dir);
      await live.pipe('img-0.lz4');
      await live.pipe('img-1.lz4');
      assert.ok((await lstat(join(dir, 'img-0.lz4'))).isFIFO());
      assert.equal((await lstat(join(dir, 'img-0.lz4'))).mode & 0o777, 0o600);
      // Several MiB: more than the pipe holds, so the writer waits on the reader.
      const body = bytes(5 << 20, 7);
      const w = await open(join(dir, 'img-0.lz4'), 'a');
      for (let at = 0; at < body.length; at += 1 << 20) await w.write(body.subarray(at, at + (1 << 20)));
      await w.close();
      await live.endWriting();
      const stored = await live.stored();
      assert.deepEqual(stored, {
        'img-0.lz4': { url: 's3://b/p/ckpt/img-0.lz4', size: body.length },
        'img-1.lz4': { url: 's3://b/p/ckpt/img-1.lz4', size: 0 },
      });
      assert.ok(bucket.objects.get('s3://b/p/ckpt/img-0.lz4')?.equals(body));
      assert.deepEqual(await readdir(dir), [], 'the FIFOs are removed');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads straight into the part buffers an upload lends, waiting while they are all in flight', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cedana-live-'));
    try {
      const bucket = lendingBucket(2, 256 << 10);
      const live = liveUploads(bucket.client, 's3://b/p/ckpt', dir);
      await live.pipe('img-0.lz4');
      const body = bytes((3 << 20) + 12345, 3);
      const w = await open(join(dir, 'img-0.lz4'), 'a');
      for (let at = 0; at < body.length; at += 1 << 20) await w.write(body.subarray(at, at + (1 << 20)));
      await w.close();
      await live.endWriting();
      assert.deepEqual(await live.stored(), { 'img-0.lz4': { url: 's3://b/p/ckpt/img-0.lz4', size: body.length } });
      assert.ok(bucket.objects.get('s3://b/p/ckpt/img-0.lz4')?.equals(body), 'the object holds the bytes written, in order');
      assert.ok(bucket.waits.count > 0, 'the reader waited for a part buffer');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a failed upload fails the writers' next write (EPIPE) and abort() tells the upload's reason, removing completed objects", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cedana-live-'));
    try {
      const bucket = memoryBucket(2 << 20);
      const live = liveUploads(bucket.client, 's3://b/p/ckpt', dir);
      await live.pipe('img-0.lz4');
      const w = await open(join(dir, 'img-0.lz4'), 'a');
      const writing = (async () => {
        for (let i = 0; i < 64; i++) await w.write(bytes(1 << 20, i));
      })();
      await assert.rejects(writing, { code: 'EPIPE' });
      await w.close();
      const reason = await live.abort();
      assert.ok(reason instanceof CedanaError && reason.code === 'CEDANA_ERR_STORAGE_INTERRUPTED', String(reason));
      assert.equal(bucket.objects.size, 0);
      await assert.rejects(live.stored(), { code: 'CEDANA_ERR_STORAGE_INTERRUPTED' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('abort() with no failed upload (the dump failed elsewhere) resolves with no reason and removes completed objects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cedana-live-'));
    try {
      const bucket = memoryBucket();
      const live = liveUploads(bucket.client, 's3://b/p/ckpt', dir);
      await live.pipe('img-0.lz4');
      await live.pipe('img-1.lz4');
      const w = await open(join(dir, 'img-0.lz4'), 'a');
      await w.write(bytes(1000, 1));
      await w.close();
      assert.equal(await live.abort(), undefined);
      assert.equal(bucket.objects.size, 0, `left: ${[...bucket.objects.keys()].join(' ')}`);
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
