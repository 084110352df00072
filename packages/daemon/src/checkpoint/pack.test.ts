import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CedanaError } from '@cedana/core';
import { packCheckpoint } from './pack.js';

async function makeFolder(dir: string, pagesBytes: number): Promise<Buffer> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'checkpoint.json'), '{}');
  const pages = randomBytes(pagesBytes);
  await writeFile(join(dir, 'pages-1.img'), pages);
  return pages;
}

describe('packCheckpoint failures', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-pack-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('on abort keeps the folder, removes the partial archive and throws CEDANA_ERR_CANCELLED', async () => {
    const dir = join(root, 'aborted');
    const pages = await makeFolder(dir, 8 << 20);
    const abort = new AbortController();
    await assert.rejects(packCheckpoint(dir, 'gzip', { signal: abort.signal, onProgress: () => abort.abort() }), {
      code: 'CEDANA_ERR_CANCELLED',
    });
    assert.ok(pages.equals(await readFile(join(dir, 'pages-1.img'))));
    assert.deepEqual(await readdir(root), ['aborted']);
  });

  it('throws the abort reason when it is a CedanaError', async () => {
    const dir = join(root, 'reason');
    await makeFolder(dir, 1024);
    const reason = new CedanaError('CEDANA_ERR_JOB_NOT_FOUND', 'job deleted meanwhile');
    await assert.rejects(packCheckpoint(dir, 'lz4', { signal: AbortSignal.abort(reason) }), reason);
    assert.ok(existsSync(join(dir, 'pages-1.img')));
  });

  it('names a missing folder and an unknown compression', async () => {
    await assert.rejects(packCheckpoint(join(root, 'missing'), 'lz4'), { code: 'CEDANA_ERR_CHECKPOINT_NOT_FOUND', message: /missing/ });
    // @ts-expect-error: a compression the type does not allow, as from an old client.
    await assert.rejects(packCheckpoint(root, 'brotli'), {
      code: 'CEDANA_ERR_INVALID_ARGUMENT',
      message: /"brotli": expected one of none, tar/,
    });
  });

  describe('on a small tmpfs', () => {
    const mnt = join(tmpdir(), `cedana-pack-tmpfs-${process.pid}`);
    let mounted = '';
    before(async () => {
      await mkdir(mnt, { recursive: true });
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
      mounted = mount.status === 0 ? '' : `cannot mount a tmpfs: ${mount.stderr?.toString().trim() || mount.error?.message}`;
    });
    after(async () => {
      if (mounted === '') spawnSync('umount', [mnt]);
      await rm(mnt, { recursive: true, force: true });
    });

    for (const compression of ['tar', 'lz4'] as const) {
      it(`on ENOSPC (${compression}) keeps the folder, removes the partial archive and throws CEDANA_ERR_NO_SPACE`, async (t) => {
        if (mounted !== '') return t.skip(mounted);
        const dir = join(mnt, `dump-${compression}`);
        const pages = await makeFolder(dir, 1200 << 10);
        await assert.rejects(packCheckpoint(dir, compression), (err: CedanaError) => {
          assert.equal(err.code, 'CEDANA_ERR_NO_SPACE');
          assert.match(
            err.message,
            new RegExp(`writing ${dir}\\.tar.*: wrote .* of (up to )?1\\.2 MiB \\(\\d+ bytes\\) in all, .* free there`),
          );
          return true;
        });
        assert.ok(pages.equals(await readFile(join(dir, 'pages-1.img'))), 'the folder is intact');
        assert.deepEqual(await readdir(mnt), [`dump-${compression}`], 'no partial archive is left');
        await rm(dir, { recursive: true });
      });
    }

    it('throws CEDANA_ERR_CHECKPOINT_DIR when the folder is on a read-only filesystem', async (t) => {
      if (mounted !== '') return t.skip(mounted);
      const dir = join(mnt, 'read-only');
      await makeFolder(dir, 1024);
      assert.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0);
      try {
        await assert.rejects(packCheckpoint(dir, 'lz4'), {
          code: 'CEDANA_ERR_CHECKPOINT_DIR',
          message: /read-only\.tar\.lz4\.partial: EROFS/,
        });
      } finally {
        spawnSync('mount', ['-o', 'remount,rw', mnt]);
      }
      assert.ok(existsSync(join(dir, 'pages-1.img')));
    });
  });
});
