/**
 * Issue 13: a checkpoint holds what its checkpoint.json lists and nothing else, every
 * listed name stays inside the checkpoint, and what is unpacked is private (0700/0600).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Header, type HeaderData } from 'tar';
import { unpackCheckpoint } from './archive.js';
import { type CheckpointManifest, MANIFEST_FILE, verifyManifest } from './manifest.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function manifestOf(files: Record<string, Buffer>): CheckpointManifest {
  return {
    id: 'c0ffee',
    format: 1,
    createdAt: new Date(0).toISOString(),
    host: { cedana: '0', node: '0', kernel: '0', hostname: 'h' },
    files: Object.fromEntries(Object.entries(files).map(([name, data]) => [name, { size: data.length, sha256: sha256(data) }])),
  } as CheckpointManifest;
}

function rawTar(entries: (HeaderData & { body?: Buffer })[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { body = Buffer.alloc(0), ...data } of entries) {
    const header = new Header({ mode: 0o644, mtime: new Date(0), size: body.length, type: 'File', ...data });
    header.encode();
    blocks.push(header.block ?? Buffer.alloc(0), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

describe('checkpoint.json lists the whole checkpoint, inside its folder', () => {
  let root: string;
  const images = { 'core-1.img': Buffer.from('core'), 'pages-1.img': Buffer.from('secret pages') };
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-manifest-paths-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  const folder = async (name: string, manifest: CheckpointManifest, files: Record<string, Buffer> = images) => {
    const dir = join(root, name, 'ckpt');
    await mkdir(dir, { recursive: true });
    for (const [file, data] of Object.entries(files)) await writeFile(join(dir, file), data);
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
    return dir;
  };

  it('gh-13: refuses an entry ../../etc/hostname naming it, even when its sha256 is right', async () => {
    const hostname = await readFile('/etc/hostname');
    const m = manifestOf({ ...images, '../../etc/hostname': hostname });
    const dir = await folder('escape', m);
    await assert.rejects(verifyManifest(dir), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message:
        /lists the file "\.\.\/\.\.\/etc\/hostname", which is not a path inside the checkpoint \(it goes up with "\.\."\); nothing was read/,
    });
    for (const name of ['/etc/hostname', 'a/../core-1.img', './core-1.img']) {
      await assert.rejects(verifyManifest(await folder(`bad-${name.length}`, manifestOf({ ...images, [name]: hostname }))), {
        code: 'CEDANA_ERR_CHECKPOINT_INVALID',
        message: /is not a path inside the checkpoint/,
      });
    }
  });

  it('gh-13: refuses a file the folder holds but checkpoint.json does not list, naming it', async () => {
    const dir = await folder('extra', manifestOf(images), { ...images, 'pages-2.img': Buffer.from('added') });
    await assert.rejects(verifyManifest(dir), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /checkpoint file pages-2\.img in .*extra\/ckpt is not listed in checkpoint\.json/,
    });
    // What a restore in place writes there (CRIU's log and figures) is not part of the checkpoint.
    const ok = await folder('outputs', manifestOf(images), {
      ...images,
      'restore.log': Buffer.from('log'),
      'stats-restore': Buffer.from('s'),
    });
    assert.deepEqual(Object.keys((await verifyManifest(ok)).files).sort(), Object.keys(images).sort());
  });

  it('gh-13: refuses an archive entry checkpoint.json does not list, before or after checkpoint.json', async () => {
    const manifest = Buffer.from(JSON.stringify(manifestOf(images)));
    const files = Object.entries(images).map(([path, body]) => ({ path, body }));
    for (const [name, entries] of [
      ['after.tar', [{ path: MANIFEST_FILE, body: manifest }, ...files, { path: 'pages-2.img', body: Buffer.from('added') }]],
      ['before.tar', [{ path: 'pages-2.img', body: Buffer.from('added') }, { path: MANIFEST_FILE, body: manifest }, ...files]],
    ] as const) {
      const archive = join(root, name);
      await writeFile(archive, rawTar([...entries]));
      await assert.rejects(unpackCheckpoint(archive, join(root, `${name}.d`), { verify: true }), {
        code: 'CEDANA_ERR_CHECKPOINT_INVALID',
        message: new RegExp(`checkpoint file pages-2\\.img in the checkpoint archive .*${name} is not listed in checkpoint\\.json`),
      });
    }
  });

  it('gh-13: unpacks files 0600 and folders 0700 whatever modes the archive gives', async () => {
    const nested = { ...images, 'sub/fs-1.img': Buffer.from('fs') };
    const archive = join(root, 'modes.tar');
    await writeFile(
      archive,
      rawTar([
        { path: MANIFEST_FILE, body: Buffer.from(JSON.stringify(manifestOf(nested))), mode: 0o644 },
        { path: 'sub/', type: 'Directory', mode: 0o755 },
        ...Object.entries(nested).map(([path, body]) => ({ path, body, mode: 0o644 })),
      ]),
    );
    const dest = join(root, 'modes');
    await unpackCheckpoint(archive, dest, { verify: true });
    const mode = async (p: string) => (await stat(join(dest, p))).mode & 0o777;
    assert.deepEqual(
      await Promise.all(['', 'sub', MANIFEST_FILE, 'pages-1.img', 'sub/fs-1.img'].map(mode)),
      [0o700, 0o700, 0o600, 0o600, 0o600],
    );
  });
});
