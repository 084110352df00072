import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { CedanaError, type ObjectRanges, type StorageClient } from '@cedana/core';
import { RemoteFill } from './remote-fill.js';

const PART = 1000;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cedana-fill-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Objects held in memory, read in 100-byte pieces; `reads` records the ranges asked for, in order. */
function storage(objects: Record<string, Buffer>, opts: { failAt?: number } = {}) {
  const reads: [string, number][] = [];
  const client = {
    async openRanges(url: string): Promise<ObjectRanges> {
      const body = objects[url];
      if (!body) throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `the object ${url} is missing`);
      return {
        size: body.length,
        partSize: PART,
        queue: 1,
        async read(start, end, onBytes) {
          reads.push([url, start]);
          await new Promise((r) => setImmediate(r));
          if (opts.failAt !== undefined && start >= opts.failAt)
            throw new CedanaError('CEDANA_ERR_STORAGE_UNREACHABLE', `reading ${url} failed`);
          for (let at = start; at < end; at += 100) await onBytes(body.subarray(at, Math.min(end, at + 100)), at);
        },
      };
    },
  } as unknown as StorageClient;
  return { client, reads };
}

it('fills each file whole, parts asked for first, and reports every part present', async () => {
  const body = randomBytes(5 * PART + 10);
  const { client, reads } = storage({ 's3://b/c/img-0.lz4': body });
  const fill = await RemoteFill.start(client, dir, [{ name: 'img-0.lz4', url: 's3://b/c/img-0.lz4', size: body.length }], {});
  assert.equal((await stat(join(dir, 'img-0.lz4'))).size, body.length, 'the file has its full size at once');
  const present: [number, number][] = [];
  fill.follow({ present: (_f, s, e) => present.push([s, e]), failed: () => assert.fail('no failure') });
  fill.want('img-0.lz4', 4 * PART + 5, 4 * PART + 10); // the end of the file: what CRIU reads first
  await fill.done;
  assert.deepEqual(await readFile(join(dir, 'img-0.lz4')), body);
  assert.deepEqual(
    reads.map(([, s]) => s),
    [0, 4 * PART, 5 * PART, PART, 2 * PART, 3 * PART],
    'the part asked for comes next, then the rest in file order after it',
  );
  assert.equal(present.length, 6);
  assert.ok(fill.wholeAfterMs !== undefined);
});

it('refuses an object whose size is not checkpoint.json’s, before downloading anything', async () => {
  const { client, reads } = storage({ 's3://b/c/img-0.lz4': randomBytes(10) });
  await assert.rejects(
    RemoteFill.start(client, dir, [{ name: 'img-0.lz4', url: 's3://b/c/img-0.lz4', size: 11 }], {}),
    /s3:\/\/b\/c\/img-0\.lz4 has 10 bytes, checkpoint\.json says 11/,
  );
  assert.deepEqual(reads, []);
});

it('the first failure stops every download, is told to the readers and rejects done', async () => {
  const a = randomBytes(4 * PART);
  const { client } = storage({ 's3://b/c/img-0.lz4': a, 's3://b/c/img-1.lz4': a }, { failAt: 2 * PART });
  const fill = await RemoteFill.start(
    client,
    dir,
    ['img-0.lz4', 'img-1.lz4'].map((name) => ({ name, url: `s3://b/c/${name}`, size: a.length })),
    {},
  );
  const failed: Error[] = [];
  fill.follow({ present: () => {}, failed: (err) => failed.push(err) });
  await assert.rejects(fill.done, /reading s3:\/\/b\/c\/img-\d\.lz4 failed/);
  assert.equal(failed.length, 1, 'told once');
  assert.equal(fill.failure, failed[0]);
  const late: Error[] = [];
  fill.follow({ present: () => {}, failed: (err) => late.push(err) });
  assert.equal(late.length, 1, 'a reader following later hears of it too');
});
