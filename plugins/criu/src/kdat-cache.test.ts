/**
 * The kerndat cache with the CRIU of this machine: written by criu itself onto a tmpfs and
 * linked from a run folder on disk (as /run is here), made again when the tmpfs lost it (a
 * reboot) or CRIU dropped the link. Both folders are temporary ones of the test.
 */
import assert from 'node:assert/strict';
import { chown, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { locateCriu } from './discover.js';
import { ensureKdatCache, type KdatPaths } from './kdat-cache.js';
import { testConfig } from './testing/context.js';

const disk = await mkdtemp(join(tmpdir(), 'criu-kdat-test-'));
const shm = await mkdtemp('/dev/shm/criu-kdat-test-');
after(async () => {
  await rm(disk, { recursive: true, force: true });
  await rm(shm, { recursive: true, force: true });
});
const criu = await locateCriu(testConfig());
const KDAT_MAGIC = 0x57023458;

async function folders(name: string): Promise<KdatPaths & { link: string }> {
  const runDir = join(disk, name);
  await mkdir(runDir);
  return { runDir, storeDir: join(shm, name), link: join(runDir, 'criu.kdat') };
}

test('criu writes the cache once onto the tmpfs, 0600 in a 0700 folder; the run folder links to it', async () => {
  const p = await folders('once');
  assert.equal(await ensureKdatCache(criu, p), 'written');
  const target = await readlink(p.link);
  assert.ok(target.startsWith(`${p.storeDir}/`), target);
  const bytes = await readFile(p.link);
  assert.equal(bytes.readUInt32LE(0), KDAT_MAGIC);
  assert.equal((await stat(target)).mode & 0o777, 0o600);
  assert.equal((await stat(p.storeDir)).mode & 0o777, 0o700);
  assert.equal(await ensureKdatCache(criu, p), 'kept');
  assert.deepEqual(await readFile(p.link), bytes);
});

test('after a reboot (the tmpfs emptied) the dangling link is replaced by a new cache', async () => {
  const p = await folders('reboot');
  assert.equal(await ensureKdatCache(criu, p), 'written');
  await rm(p.storeDir, { recursive: true });
  await assert.rejects(readFile(p.link), { code: 'ENOENT' });
  assert.equal(await ensureKdatCache(criu, p), 'written');
  assert.equal((await readFile(p.link)).readUInt32LE(0), KDAT_MAGIC);
});

test('a link CRIU removed (it found the cache stale) is made again, and a plain file there is replaced by the link', async () => {
  const p = await folders('dropped');
  assert.equal(await ensureKdatCache(criu, p), 'written');
  await rm(p.link);
  assert.equal(await ensureKdatCache(criu, p), 'kept');
  assert.ok((await lstat(p.link)).isSymbolicLink());
  await rm(p.link);
  await writeFile(p.link, 'left by someone');
  assert.equal(await ensureKdatCache(criu, p), 'kept');
  assert.equal((await readFile(p.link)).readUInt32LE(0), KDAT_MAGIC);
});

test('a store folder someone else owns is not used', async () => {
  const p = await folders('foreign');
  await mkdir(p.storeDir, { mode: 0o700 });
  await chown(p.storeDir, 65534, 65534);
  assert.equal(await ensureKdatCache(criu, p), 'failed');
  await assert.rejects(lstat(p.link), { code: 'ENOENT' });
});

test('on a tmpfs run folder CRIU keeps its own cache and nothing is written', async () => {
  const runDir = join(shm, 'run-on-tmpfs');
  await mkdir(runDir);
  assert.equal(await ensureKdatCache(criu, { runDir, storeDir: join(shm, 'unused') }), 'tmpfs');
  await assert.rejects(lstat(join(runDir, 'criu.kdat')), { code: 'ENOENT' });
  await assert.rejects(lstat(join(shm, 'unused')), { code: 'ENOENT' });
});

test('a criu that writes no cache leaves no link and is reported as failed', async () => {
  const p = await folders('broken');
  const fake = join(disk, 'not-criu');
  await writeFile(fake, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  assert.equal(await ensureKdatCache(fake, p), 'failed');
  await assert.rejects(lstat(p.link), { code: 'ENOENT' });
});
