/** checkpoint.json made while packing (one read of the images): what the dump pipeline relies on. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import type { Compression } from '@cedana/core';
import { Parser, type ReadEntry } from 'tar';
import { packCheckpoint, readManifestFromArchive, unpackCheckpoint } from './archive.js';
import { CODECS } from './codecs.js';
import { readCheckpointManifest } from './inspect.js';
import { MANIFEST_FILE, readManifest, verifyManifest } from './manifest.js';

const FACTS = { id: 'c0ffee', pid: 4242, type: 'process', compression: 'lz4' };
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** CRIU-like images: small ones, one in a subfolder, an empty one and a 6 MiB pages image. */
async function makeImages(dir: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {
    'core-1.img': randomBytes(700),
    'pagemap-1.img': randomBytes(300),
    'sub/fs-1.img': randomBytes(100),
    'empty.img': Buffer.alloc(0),
    'pages-1.img': Buffer.concat([randomBytes(3 << 20), Buffer.alloc(3 << 20)]),
  };
  await mkdir(join(dir, 'sub'), { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
  return files;
}

/** The entries of a plain tar stream, in order, with their bodies. */
function tarEntries(tar: Buffer): { path: string; body: Buffer }[] {
  const entries: { path: string; body: Buffer }[] = [];
  const parser = new Parser();
  parser.on('entry', (entry: ReadEntry) => {
    const chunks: Buffer[] = [];
    entry.on('data', (c: Buffer) => chunks.push(c));
    entry.on('end', () => entries.push({ path: entry.path, body: Buffer.concat(chunks) }));
  });
  parser.end(tar);
  return entries;
}

describe('checkpoint.json made while packing', () => {
  let root: string;
  let master: string;
  let files: Record<string, Buffer>;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-manifest-archive-'));
    master = join(root, 'master');
    files = await makeImages(master);
  });
  after(() => rm(root, { recursive: true, force: true }));

  const expectedFiles = () =>
    Object.fromEntries(Object.entries(files).map(([name, data]) => [name, { size: data.length, sha256: sha256(data) }]));

  for (const compression of ['tar', 'lz4', 'gzip', 'zlib'] as const) {
    it(`${compression}: stores it first, with the size and sha256 of every file, readable by inspect`, async () => {
      const dir = join(root, `dump-${compression}`);
      await cp(master, dir, { recursive: true });
      const packed = await packCheckpoint(dir, compression, { manifest: { ...FACTS, compression } });
      assert.deepEqual(packed.manifest?.files, expectedFiles());
      assert.equal(packed.manifest?.compression, compression);

      const plain = await decode(packed.path, compression);
      assert.equal(tarEntries(plain)[0]?.path, MANIFEST_FILE, 'checkpoint.json is the first entry');
      assert.deepEqual(JSON.parse(tarEntries(plain)[0]?.body.toString() ?? ''), packed.manifest);

      assert.deepEqual(await readManifestFromArchive(packed.path, MANIFEST_FILE), packed.manifest);
      assert.deepEqual(await readCheckpointManifest(packed.path), packed.manifest);

      const dest = join(root, `restore-${compression}`);
      await unpackCheckpoint(packed.path, dest);
      assert.deepEqual(await verifyManifest(dest), packed.manifest);
      for (const [name, data] of Object.entries(files)) assert.ok(data.equals(await readFile(join(dest, name))), name);
      assert.deepEqual(await readManifest(dest), packed.manifest, 'checkpoint.json is unpacked too');
    });
  }

  it("'none': writes checkpoint.json into the folder, and verifyManifest accepts it", async () => {
    const dir = join(root, 'dump-none');
    await cp(master, dir, { recursive: true });
    const packed = await packCheckpoint(dir, 'none', { manifest: { ...FACTS, compression: 'none' } });
    assert.equal(packed.path, dir);
    assert.deepEqual(packed.manifest?.files, expectedFiles());
    assert.deepEqual(await readManifest(dir), packed.manifest);
    assert.deepEqual(await verifyManifest(dir), packed.manifest);
    assert.deepEqual(await readCheckpointManifest(dir), packed.manifest);
  });

  it('replaces a checkpoint.json the folder already holds', async () => {
    const dir = join(root, 'dump-stale');
    await cp(master, dir, { recursive: true });
    await writeFile(join(dir, MANIFEST_FILE), '{"stale":true}');
    const packed = await packCheckpoint(dir, 'lz4', { manifest: FACTS });
    const read = await readManifestFromArchive(packed.path, MANIFEST_FILE);
    assert.equal(read.stale, undefined);
    assert.deepEqual(read.files, expectedFiles());
  });

  it('on abort keeps the folder as it was and leaves no archive', async () => {
    const dir = join(root, 'dump-aborted');
    await cp(master, dir, { recursive: true });
    const abort = new AbortController();
    await assert.rejects(packCheckpoint(dir, 'lz4', { manifest: FACTS, signal: abort.signal, onProgress: () => abort.abort() }), {
      code: 'CEDANA_ERR_CANCELLED',
    });
    assert.deepEqual((await readdir(dir, { recursive: true })).sort(), [
      'core-1.img',
      'empty.img',
      'pagemap-1.img',
      'pages-1.img',
      'sub',
      'sub/fs-1.img',
    ]);
    assert.equal(existsSync(`${dir}.tar.lz4`) || existsSync(`${dir}.tar.lz4.partial`), false);
  });

  const tools = spawnSync('lz4', ['--version']).status === 0 && spawnSync('tar', ['--version']).status === 0;
  it('writes archives that `lz4 -d | tar -x` unpacks, checkpoint.json included', {
    skip: tools ? false : 'no lz4 or tar CLI',
  }, async () => {
    const dir = join(root, 'dump-cli');
    await cp(master, dir, { recursive: true });
    const packed = await packCheckpoint(dir, 'lz4', { manifest: FACTS });
    const dest = join(root, 'restore-cli');
    await mkdir(dest);
    const cli = spawnSync('sh', ['-c', 'lz4 -d -c "$1" | tar -x -C "$2"', 'sh', packed.path, dest]);
    assert.equal(cli.status, 0, cli.stderr.toString());
    assert.deepEqual(await verifyManifest(dest), packed.manifest);
  });
});

/** The plain tar stream of an archive. */
async function decode(path: string, compression: Exclude<Compression, 'none'>): Promise<Buffer> {
  return run(await readFile(path), CODECS[compression].decoders(path));
}

async function run(data: Buffer, stages: Transform[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await pipeline([Readable.from([data]), ...stages, sink]);
  return Buffer.concat(chunks);
}
