/**
 * The kerndat cache with the CRIU of this machine: written by criu itself, kept while the
 * boot id is the same, probed again under another one. The folder is a temporary one on
 * disk (as /run is here) with a boot id file the test controls.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { locateCriu } from './discover.js';
import { ensureKdatCache, type KdatPaths } from './kdat-cache.js';
import { testConfig } from './testing/context.js';

const root = await mkdtemp(join(tmpdir(), 'criu-kdat-test-'));
after(() => rm(root, { recursive: true, force: true }));
const criu = await locateCriu(testConfig());
const KDAT_MAGIC = 0x57023458;

async function folder(name: string, bootId: string): Promise<KdatPaths> {
  const runDir = join(root, name);
  await mkdir(runDir);
  const bootIdFile = join(root, `${name}.boot_id`);
  await writeFile(bootIdFile, `${bootId}\n`);
  return { runDir, bootIdFile };
}

test('criu writes the cache once per boot: 0600, its magic first, the boot id beside it', async () => {
  const paths = await folder('once', 'boot-a');
  assert.equal(await ensureKdatCache(criu, paths), 'written');
  const cache = join(paths.runDir, 'criu.kdat');
  const bytes = await readFile(cache);
  assert.equal(bytes.readUInt32LE(0), KDAT_MAGIC);
  assert.equal((await stat(cache)).mode & 0o777, 0o600);
  assert.equal((await readFile(join(paths.runDir, 'criu.kdat.boot_id'), 'utf8')).trim(), 'boot-a');
  assert.equal(await ensureKdatCache(criu, paths), 'kept');
  assert.deepEqual(await readFile(cache), bytes);
});

test('a cache from another boot is removed and probed again', async () => {
  const paths = await folder('reboot', 'boot-a');
  const cache = join(paths.runDir, 'criu.kdat');
  const stale = Buffer.alloc(64, 0xee);
  stale.writeUInt32LE(KDAT_MAGIC, 0);
  await writeFile(cache, stale);
  await writeFile(join(paths.runDir, 'criu.kdat.boot_id'), 'boot-old\n');
  assert.equal(await ensureKdatCache(criu, paths), 'written');
  assert.notDeepEqual(await readFile(cache), stale);
  await writeFile(paths.bootIdFile, 'boot-b\n');
  assert.equal(await ensureKdatCache(criu, paths), 'written');
  assert.equal((await readFile(join(paths.runDir, 'criu.kdat.boot_id'), 'utf8')).trim(), 'boot-b');
});

test('a cache CRIU removed (a new criu binary finds it stale) is written again', async () => {
  const paths = await folder('dropped', 'boot-a');
  assert.equal(await ensureKdatCache(criu, paths), 'written');
  await rm(join(paths.runDir, 'criu.kdat'));
  assert.equal(await ensureKdatCache(criu, paths), 'written');
});

test('on a tmpfs CRIU keeps its own cache and nothing is written', async () => {
  const shm = await mkdtemp('/dev/shm/criu-kdat-test-');
  try {
    const bootIdFile = join(root, 'tmpfs.boot_id');
    await writeFile(bootIdFile, 'boot-a\n');
    assert.equal(await ensureKdatCache(criu, { runDir: shm, bootIdFile }), 'tmpfs');
    await assert.rejects(stat(join(shm, 'criu.kdat')), { code: 'ENOENT' });
  } finally {
    await rm(shm, { recursive: true, force: true });
  }
});

test('a criu that writes no cache leaves none and is reported as failed', async () => {
  const paths = await folder('broken', 'boot-a');
  const fake = join(root, 'not-criu');
  await writeFile(fake, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  assert.equal(await ensureKdatCache(fake, paths), 'failed');
  await assert.rejects(stat(join(paths.runDir, 'criu.kdat')), { code: 'ENOENT' });
  assert.equal(await ensureKdatCache(fake, paths), 'failed');
});
