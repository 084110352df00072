import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Compression } from '@cedana/core';
import { compressFrame } from 'lz4-napi';
import { checkpointSize, detectFormat, packCheckpoint, readManifestFromArchive, unpackCheckpoint } from './archive.js';
import { LZ4_HEAD } from './stored-head.js';

/** sha256 of every file under `dir`, by relative path. */
async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path.slice(dir.length + 1)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return out;
}

const MANIFEST = { pid: 42, files: {} };

/** A checkpoint-like folder: checkpoint.json, a few small images and a 20 MiB pages image (half random, half zeros). */
async function makeCheckpoint(dir: string): Promise<void> {
  await mkdir(join(dir, 'sub'), { recursive: true });
  await writeFile(join(dir, 'checkpoint.json'), JSON.stringify(MANIFEST));
  for (const name of ['core-42.img', 'mm-42.img', 'pagemap-42.img', 'sub/fs-42.img']) await writeFile(join(dir, name), randomBytes(300));
  await writeFile(join(dir, 'empty.img'), '');
  // Longer than ustar's 100-byte name field: needs a pax header.
  await writeFile(join(dir, 'sub', `${'long-name-'.repeat(12)}.img`), randomBytes(700));
  const pages = Buffer.alloc(20 << 20);
  for (let at = 0; at < pages.length; at += 8192) randomBytes(4096).copy(pages, at);
  await writeFile(join(dir, 'pages-1.img'), pages);
}

const ARCHIVES: Compression[] = ['tar', 'lz4', 'gzip', 'zlib', 'zstd'];

describe('packing and unpacking a checkpoint', () => {
  let root: string;
  let master: string;
  let expected: Record<string, string>;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-round-trip-'));
    master = join(root, 'master');
    await makeCheckpoint(master);
    expected = await digests(master);
  });
  after(() => rm(root, { recursive: true, force: true }));

  for (const compression of ARCHIVES) {
    it(`round-trips a folder through ${compression}`, async () => {
      const dir = join(root, `dump-${compression}`);
      await cp(master, dir, { recursive: true });
      const progress: number[] = [];
      const packed = await packCheckpoint(dir, compression, { onProgress: (done, total) => progress.push(done / total) });
      assert.match(packed.path, compression === 'tar' ? /dump-tar\.tar$/ : new RegExp(`dump-${compression}\\.tar\\.(lz4|gz|zlib|zst)$`));
      assert.equal(existsSync(dir), false, 'the folder is removed once packed');
      assert.equal(existsSync(`${packed.path}.partial`), false);
      assert.equal(packed.size, await checkpointSize(packed.path));
      assert.equal(await detectFormat(packed.path), compression);
      assert.equal(progress.at(-1), 1);
      assert.deepEqual(
        progress,
        [...progress].sort((a, b) => a - b),
        'progress only grows',
      );
      if (compression !== 'tar') assert.ok(packed.size < 12 << 20, `${compression} compresses the zero halves: ${packed.size}`);
      assert.deepEqual(await readManifestFromArchive(packed.path, 'checkpoint.json'), MANIFEST);

      const dest = join(root, `restore-${compression}`);
      await unpackCheckpoint(packed.path, dest);
      assert.deepEqual(await digests(dest), expected);
      assert.ok(existsSync(packed.path), 'the archive is kept');
    });
  }

  it("returns the folder itself for 'none'", async () => {
    const dir = join(root, 'dump-none');
    await cp(master, dir, { recursive: true });
    const packed = await packCheckpoint(`${dir}/`, 'none');
    assert.deepEqual(packed, { path: dir, size: await checkpointSize(master) });
    assert.equal(await detectFormat(dir), 'none');
    assert.deepEqual(await digests(dir), expected);
    assert.deepEqual(await readManifestFromArchive(dir, 'checkpoint.json'), MANIFEST);
  });

  it('says which file an archive lacks', async () => {
    const dir = join(root, 'dump-no-manifest');
    await mkdir(dir);
    await writeFile(join(dir, 'pages-1.img'), 'x');
    const packed = await packCheckpoint(dir, 'gzip');
    await assert.rejects(readManifestFromArchive(packed.path, 'checkpoint.json'), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /dump-no-manifest\.tar\.gz holds no checkpoint\.json/,
    });
  });

  it('detects the format from the bytes, not the file name', async () => {
    const dir = join(root, 'dump-misnamed');
    await cp(master, dir, { recursive: true });
    const packed = await packCheckpoint(dir, 'lz4');
    const misnamed = join(root, 'really-lz4.tar.gz');
    await rename(packed.path, misnamed);
    assert.equal(await detectFormat(misnamed), 'lz4');
    await unpackCheckpoint(misnamed, join(root, 'restore-misnamed'));
    assert.deepEqual(await digests(join(root, 'restore-misnamed')), expected);
  });

  it('unpacks and verifies an lz4 archive as lz4-napi wrote them before the native codec', async () => {
    // The old layout: checkpoint.json's entry as a stored head frame, then a frame of its
    // own per 1 MiB piece of the rest, each with a content checksum (lz4-napi's compressFrame).
    const dir = join(root, 'dump-old-lz4');
    await cp(master, dir, { recursive: true });
    const facts = { id: 'old', pid: 42, type: 'process', compression: 'lz4' };
    const tar = await readFile((await packCheckpoint(dir, 'tar', { manifest: facts })).path);
    const headBytes = 512 + Math.ceil(Number.parseInt(tar.toString('latin1', 124, 136), 8) / 512) * 512;
    const pieces: Promise<Buffer>[] = [];
    for (let at = headBytes; at < tar.length; at += 1 << 20) {
      pieces.push(compressFrame(tar.subarray(at, Math.min(at + (1 << 20), tar.length)), { contentChecksum: true }));
    }
    const old = join(root, 'dump-old.tar.lz4');
    await writeFile(old, Buffer.concat([LZ4_HEAD.encode(tar.subarray(0, headBytes)), ...(await Promise.all(pieces))]));
    assert.equal(await detectFormat(old), 'lz4');
    assert.equal(((await readManifestFromArchive(old, 'checkpoint.json')) as { id?: string }).id, 'old');
    const dest = join(root, 'restore-old-lz4');
    const manifest = await unpackCheckpoint(old, dest, { verify: true });
    assert.equal(manifest.id, 'old');
    const { 'checkpoint.json': _, ...images } = await digests(dest);
    const { 'checkpoint.json': __, ...want } = expected;
    assert.deepEqual(images, want);
  });

  const tools = spawnSync('lz4', ['--version']).status === 0 && spawnSync('tar', ['--version']).status === 0;
  it('writes lz4 archives that `lz4 -d | tar -x` unpacks', { skip: tools ? false : 'the lz4 or tar CLI is not installed' }, async () => {
    const dir = join(root, 'dump-cli');
    await cp(master, dir, { recursive: true });
    const packed = await packCheckpoint(dir, 'lz4');
    const dest = join(root, 'restore-cli');
    await mkdir(dest);
    const cli = spawnSync('sh', ['-c', 'lz4 -d -c "$1" | tar -x -C "$2"', 'sh', packed.path, dest]);
    assert.equal(cli.status, 0, cli.stderr.toString());
    assert.deepEqual(await digests(dest), expected);
  });
});
