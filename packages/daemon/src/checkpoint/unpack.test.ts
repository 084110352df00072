import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Compression } from '@cedana/core';
import { Header, type HeaderData } from 'tar';
import { packCheckpoint } from './pack.js';
import { tarEntryBytes } from './size.js';
import { ZSTD_HEAD } from './stored-head.js';
import { unpackCheckpoint } from './unpack.js';

/** A tar archive made of raw entries, for shapes packCheckpoint never writes. */
function rawTar(entries: (HeaderData & { body?: Buffer })[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { body = Buffer.alloc(0), ...data } of entries) {
    const header = new Header({ mode: 0o644, mtime: new Date(0), size: body.length, ...data });
    header.encode();
    blocks.push(header.block ?? Buffer.alloc(0), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

interface Refusal {
  code: string;
  message: RegExp;
}

describe('unpackCheckpoint refusals', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-unpack-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  /** Unpacking `archive` into a new folder fails as `expected`, removes that folder and leaves the archive as it was. */
  async function assertRefused(archive: string, expected: Refusal): Promise<void> {
    const before = await sha256(archive);
    const dest = join(root, 'dest', 'restore');
    await assert.rejects(unpackCheckpoint(archive, dest), expected);
    assert.equal(existsSync(join(root, 'dest')), false, 'the folders the call created are removed');
    assert.equal(await sha256(archive), before, 'the archive is untouched');
  }

  async function packed(name: string, compression: Compression): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir);
    await writeFile(join(dir, 'checkpoint.json'), '{}');
    await writeFile(join(dir, 'pages-1.img'), Buffer.concat([randomBytes(512 << 10), Buffer.alloc(512 << 10)]));
    return (await packCheckpoint(dir, compression)).path;
  }

  for (const compression of ['tar', 'lz4', 'gzip', 'zlib', 'zstd'] as const) {
    it(`refuses a truncated ${compression} archive with CEDANA_ERR_CHECKPOINT_INVALID`, async () => {
      const archive = await packed(`truncated-${compression}`, compression);
      const size = (await readFile(archive)).length;
      await truncate(archive, Math.floor(size * 0.6));
      await assertRefused(archive, { code: 'CEDANA_ERR_CHECKPOINT_INVALID', message: new RegExp(`${archive} .*truncated`) });
    });
  }

  it('refuses a tar cut at an entry boundary, without its end-of-archive marker', async () => {
    const archive = join(root, 'no-end.tar');
    await writeFile(archive, rawTar([{ path: 'checkpoint.json', type: 'File', body: Buffer.from('{}') }]).subarray(0, 1024));
    await assertRefused(archive, {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /no-end\.tar is truncated: the tar stream ends without its end-of-archive marker/,
    });
  });

  it('refuses corrupted gzip and lz4 archives', async () => {
    for (const compression of ['gzip', 'lz4'] as const) {
      const archive = await packed(`corrupt-${compression}`, compression);
      const bytes = await readFile(archive);
      bytes[Math.floor(bytes.length / 4)] = (bytes[Math.floor(bytes.length / 4)] ?? 0) ^ 0x10;
      await writeFile(archive, bytes);
      await assertRefused(archive, { code: 'CEDANA_ERR_CHECKPOINT_INVALID', message: new RegExp(archive) });
    }
  });

  it('refuses a zstd archive with a damaged frame or block header, naming it', async () => {
    for (const [name, damage] of [
      ['magic', (bytes: Buffer, rest: number) => bytes.fill(0x55, rest, rest + 4)],
      ['block', (bytes: Buffer, rest: number) => bytes.fill(0xff, rest + 6, rest + 9)],
    ] as const) {
      const archive = await packed(`corrupt-zstd-${name}`, 'zstd');
      const bytes = await readFile(archive);
      // The stored head (checkpoint.json, one frame) comes first; damage the frame after it.
      damage(bytes, ZSTD_HEAD.length(tarEntryBytes('checkpoint.json', 2)));
      await writeFile(archive, bytes);
      await assertRefused(archive, {
        code: 'CEDANA_ERR_CHECKPOINT_INVALID',
        message: new RegExp(`${archive} is damaged near byte \\d+ of its zstd stream`),
      });
    }
  });

  it('refuses an entry named ../evil and writes nothing outside', async () => {
    const archive = join(root, 'evil.tar');
    await writeFile(archive, rawTar([{ path: '../evil', type: 'File', body: Buffer.from('pwned') }]));
    await assertRefused(archive, {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /evil\.tar holds the entry "\.\.\/evil", which has a '\.\.' component/,
    });
    assert.equal(existsSync(join(root, 'dest', 'evil')), false);
    assert.equal(existsSync(join(root, 'evil')), false);
  });

  it('refuses absolute paths, links out of the folder and device files', async () => {
    const cases: [string, HeaderData, RegExp][] = [
      ['absolute', { path: '/tmp/evil', type: 'File' }, /"\/tmp\/evil", which has an absolute path/],
      ['symlink', { path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }, /symlink to the absolute path \/etc\/passwd/],
      [
        'hardlink',
        { path: 'passwd', type: 'Link', linkpath: '../../etc/passwd' },
        /hard link to \.\.\/\.\.\/etc\/passwd, which points outside/,
      ],
      ['device', { path: 'null', type: 'CharacterDevice', devmaj: 1, devmin: 3 }, /"null", which is a device or FIFO \(CharacterDevice\)/],
    ];
    for (const [name, entry, message] of cases) {
      const archive = join(root, `${name}.tar`);
      const safe = { path: 'checkpoint.json', type: 'File' as const, body: Buffer.from('{}') };
      await writeFile(archive, rawTar([safe, entry]));
      await assertRefused(archive, { code: 'CEDANA_ERR_CHECKPOINT_INVALID', message });
    }
  });

  it('refuses files that are no archive, and folders', async () => {
    const garbage = join(root, 'garbage.tar.lz4');
    await writeFile(garbage, 'this is not an archive at all');
    await assertRefused(garbage, {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /garbage\.tar\.lz4 is not a checkpoint archive: expected lz4, zstd, gzip, zlib or tar data, found 29 bytes starting 7468/,
    });
    await assert.rejects(unpackCheckpoint(root, join(root, 'x')), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /is a checkpoint folder, not an archive/,
    });
    await assert.rejects(unpackCheckpoint(join(root, 'missing.tar'), join(root, 'x')), { code: 'CEDANA_ERR_CHECKPOINT_NOT_FOUND' });
  });

  it('on failure keeps what a folder held before and removes only what it added', async () => {
    const dest = join(root, 'existing');
    await mkdir(dest);
    await writeFile(join(dest, 'keep.txt'), 'mine');
    const archive = join(root, 'half-evil.tar');
    await writeFile(
      archive,
      rawTar([
        { path: 'pages-1.img', type: 'File', body: randomBytes(4096) },
        { path: 'a/../../evil', type: 'File' },
      ]),
    );
    await assert.rejects(unpackCheckpoint(archive, dest), { code: 'CEDANA_ERR_CHECKPOINT_INVALID' });
    assert.deepEqual(await readdir(dest), ['keep.txt']);
  });

  describe('on a small tmpfs', () => {
    const mnt = join(tmpdir(), `cedana-unpack-tmpfs-${process.pid}`);
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

    it('throws CEDANA_ERR_NO_SPACE on ENOSPC and removes what it unpacked', async (t) => {
      if (mounted !== '') return t.skip(mounted);
      const dir = join(root, 'big');
      await mkdir(dir);
      await writeFile(join(dir, 'pages-1.img'), randomBytes(3 << 20));
      const { path } = await packCheckpoint(dir, 'lz4');
      const dest = join(mnt, 'restore');
      await assert.rejects(unpackCheckpoint(path, dest), {
        code: 'CEDANA_ERR_NO_SPACE',
        message: new RegExp(`writing ${dest}: wrote .* of an unknown total, .* free there`),
      });
      assert.deepEqual(await readdir(mnt), []);
    });
  });
});
