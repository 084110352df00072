import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashFiles, StreamHash } from './hash-pool.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('hashing on workers', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-hash-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('hashFiles gives the size and sha256 of each file', async () => {
    const files: Record<string, Buffer> = {
      'pages-1.img': randomBytes(9 << 20),
      'pages-2.img': randomBytes(5 << 20),
      'empty.img': Buffer.alloc(0),
      'inventory.img': randomBytes(300), // small: hashed on this thread
    };
    for (const [name, data] of Object.entries(files)) await writeFile(join(root, name), data);
    const sizes = Object.fromEntries(Object.entries(files).map(([name, data]) => [name, data.length]));
    assert.deepEqual(
      await hashFiles(root, sizes),
      Object.fromEntries(Object.entries(files).map(([name, data]) => [name, { size: data.length, sha256: sha256(data) }])),
    );
  });

  it('hashFiles hashes many small files, and one that grew since it was listed, whole', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 20; i++) files[`core-${i}.img`] = randomBytes(100 + i * 997);
    for (const [name, data] of Object.entries(files)) await writeFile(join(root, name), data);
    const sizes = Object.fromEntries(Object.entries(files).map(([name, data]) => [name, data.length]));
    sizes['core-3.img'] = 10; // listed smaller than it is: its digest is of what is there
    const got = await hashFiles(root, sizes);
    for (const [name, data] of Object.entries(files)) assert.deepEqual(got[name], { size: data.length, sha256: sha256(data) }, name);
  });

  it('hashFiles rejects with the errno of a missing file', async () => {
    await assert.rejects(hashFiles(root, { 'missing.img': 1 }), { code: 'ENOENT' }); // on this thread
    await assert.rejects(hashFiles(root, { 'missing-pages.img': 8 << 20 }), { code: 'ENOENT' }); // on a worker
  });

  it('StreamHash hashes chunks in order, larger than its ring and many at once', async () => {
    const data = randomBytes(21 << 20);
    const hash = new StreamHash();
    let at = 0;
    for (const size of [1, 3 << 20, 12 << 20, 100]) {
      await hash.update(data.subarray(at, at + size));
      at += size;
    }
    await hash.update(data.subarray(at));
    assert.deepEqual(await hash.digest(), { size: data.length, sha256: sha256(data) });
  });

  it('runs streams side by side, and a worker given back after abort() hashes the next one right', async () => {
    const a = randomBytes(3 << 20);
    const b = randomBytes(2 << 20);
    const aborted = new StreamHash();
    await aborted.update(randomBytes(5 << 20));
    aborted.abort();
    const [ha, hb] = [new StreamHash(), new StreamHash()];
    await Promise.all([ha.update(a), hb.update(b)]);
    assert.deepEqual(await Promise.all([ha.digest(), hb.digest()]), [
      { size: a.length, sha256: sha256(a) },
      { size: b.length, sha256: sha256(b) },
    ]);
    const next = new StreamHash();
    await next.update(a);
    assert.deepEqual(await next.digest(), { size: a.length, sha256: sha256(a) });
  });

  it('serves more streams at once than it keeps workers, all right', async () => {
    const data = Array.from({ length: 6 }, (_, i) => randomBytes((i + 1) << 19));
    const hashes = data.map(() => new StreamHash());
    await Promise.all(hashes.map((hash, i) => hash.update(data[i] as Buffer)));
    assert.deepEqual(
      await Promise.all(hashes.map((hash) => hash.digest())),
      data.map((d) => ({ size: d.length, sha256: sha256(d) })),
    );
  });
});
