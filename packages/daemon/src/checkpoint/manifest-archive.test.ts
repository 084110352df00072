/**
 * checkpoint.json made while packing (one read of the images) and checked while
 * unpacking (no second read): what the dump and restore pipelines rely on.
 */
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
import { createDeflate } from 'node:zlib';
import { type Compression, MANIFEST_FORMAT } from '@cedana/core';
import { Header, type HeaderData, Parser, type ReadEntry } from 'tar';
import { packCheckpoint, readManifestFromArchive, unpackCheckpoint } from './archive.js';
import { CODECS } from './codecs.js';
import { readCheckpointManifest } from './inspect.js';
import { type CheckpointManifest, MANIFEST_FILE, readManifest, verifyManifest } from './manifest.js';
import { HELPER_ADDON } from './native-codec.js';
import { isPagesImage, PieceHasher } from './piece-digests.js';

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

/** A tar archive made of raw entries, for shapes packCheckpoint never writes. */
function rawTar(entries: (HeaderData & { body?: Buffer })[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { body = Buffer.alloc(0), ...data } of entries) {
    const header = new Header({ mode: 0o644, mtime: new Date(0), size: body.length, type: 'File', ...data });
    header.encode();
    blocks.push(header.block ?? Buffer.alloc(0), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

function manifestOf(files: Record<string, Buffer>): CheckpointManifest {
  const digests = Object.fromEntries(Object.entries(files).map(([name, data]) => [name, { size: data.length, sha256: sha256(data) }]));
  return {
    ...FACTS,
    sections: {},
    format: MANIFEST_FORMAT,
    createdAt: new Date(0).toISOString(),
    host: { cedana: '0', node: '0', kernel: '0', hostname: 'h' },
    files: digests,
  };
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

  // Page files get their pieces' digests too (piece-digests.test.ts checks those against the reference XXH64).
  const expectedFiles = () =>
    Object.fromEntries(
      Object.entries(files).map(([name, data]) => {
        if (!isPagesImage(name)) return [name, { size: data.length, sha256: sha256(data) }];
        const pieces = new PieceHasher(HELPER_ADDON);
        pieces.update(data);
        return [name, { size: data.length, sha256: sha256(data), pieces: pieces.finish() }];
      }),
    );

  for (const compression of ['tar', 'lz4', 'gzip', 'zlib', 'zstd'] as const) {
    it(`${compression}: stores it first, with the size and sha256 of every file, readable by inspect and verified by unpack`, async () => {
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
      const verified = await unpackCheckpoint(packed.path, dest, { verify: true });
      assert.deepEqual(verified, packed.manifest);
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

describe('unpackCheckpoint verify', () => {
  let root: string;
  let files: Record<string, Buffer>;
  let tar: Buffer;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-unpack-verify-'));
    const dir = join(root, 'dump');
    files = await makeImages(dir);
    tar = await readFile((await packCheckpoint(dir, 'tar', { manifest: FACTS })).path);
  });
  after(() => rm(root, { recursive: true, force: true }));

  /** Unpacking `archive` with verify fails as `expected`, and removes the folder it created. */
  async function assertRefused(archive: string, expected: { code: string; message: RegExp }): Promise<void> {
    const dest = join(root, 'dest', 'restore');
    await assert.rejects(unpackCheckpoint(archive, dest, { verify: true }), expected);
    assert.equal(existsSync(join(root, 'dest')), false, 'what was unpacked is removed');
  }

  /** `tar` with the byte at `offset` of the body of `name` flipped. */
  function tampered(name: string, offset: number): Buffer {
    const bytes = Buffer.from(tar);
    const at = bytes.indexOf(files[name]?.subarray(0, 64) ?? Buffer.alloc(1));
    assert.ok(at > 0, `${name} found in the archive`);
    bytes[at + offset] = (bytes[at + offset] ?? 0) ^ 0x01;
    return bytes;
  }

  it('refuses a tampered byte in a tar archive, naming the file', async () => {
    const archive = join(root, 'tampered.tar');
    await writeFile(archive, tampered('pages-1.img', 12345));
    await assertRefused(archive, {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /checkpoint file pages-1\.img does not match its sha256 in checkpoint\.json: it was changed or corrupted/,
    });
  });

  for (const compression of ['lz4', 'gzip', 'zlib', 'zstd'] as const) {
    it(`refuses a ${compression} archive re-compressed after a byte changed (its own checksums hold), naming the file`, async () => {
      const archive = join(root, `recompressed.tar.${compression}`);
      await writeFile(archive, await encode(tampered('core-1.img', 10), compression));
      await assertRefused(archive, {
        code: 'CEDANA_ERR_CHECKPOINT_INVALID',
        message: /checkpoint file core-1\.img does not match its sha256/,
      });
    });
  }

  it('refuses a file shorter than checkpoint.json says, a missing file, and an archive without checkpoint.json', async () => {
    const listed = { 'pages-1.img': Buffer.from('abcdef'), 'core-1.img': Buffer.from('core') };
    const manifest = Buffer.from(JSON.stringify(manifestOf(listed)));
    const cases: [string, Buffer, RegExp][] = [
      [
        'short.tar',
        rawTar([
          { path: MANIFEST_FILE, body: manifest },
          { path: 'pages-1.img', body: Buffer.from('abcde') },
          { path: 'core-1.img', body: Buffer.from('core') },
        ]),
        /checkpoint file pages-1\.img has 5 bytes, expected 6: it was truncated or changed/,
      ],
      [
        'missing.tar',
        rawTar([
          { path: MANIFEST_FILE, body: manifest },
          { path: 'pages-1.img', body: Buffer.from('abcdef') },
        ]),
        /checkpoint file core-1\.img is missing from the checkpoint archive .*missing\.tar/,
      ],
      [
        'no-manifest.tar',
        rawTar([{ path: 'pages-1.img', body: Buffer.from('abcdef') }]),
        /no-manifest\.tar is not a cedana checkpoint: it has no checkpoint\.json/,
      ],
      [
        'link.tar',
        rawTar([
          { path: MANIFEST_FILE, body: Buffer.from(JSON.stringify(manifestOf({ ...listed, 'other.img': Buffer.from('abcdef') }))) },
          { path: 'other.img', body: Buffer.from('abcdef') },
          { path: 'pages-1.img', type: 'SymbolicLink', linkpath: 'other.img' },
          { path: 'core-1.img', body: Buffer.from('core') },
        ]),
        /checkpoint file pages-1\.img in the checkpoint archive .*link\.tar is not a regular file/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const archive = join(root, name);
      await writeFile(archive, bytes);
      await assertRefused(archive, { code: 'CEDANA_ERR_CHECKPOINT_INVALID', message });
    }
  });

  it('checks files that come before checkpoint.json once it arrives', async () => {
    const listed = { 'pages-1.img': Buffer.from('abcdef') };
    const manifest = Buffer.from(JSON.stringify(manifestOf(listed)));
    const good = join(root, 'late.tar');
    await writeFile(
      good,
      rawTar([
        { path: 'pages-1.img', body: listed['pages-1.img'] },
        { path: MANIFEST_FILE, body: manifest },
      ]),
    );
    assert.deepEqual((await unpackCheckpoint(good, join(root, 'late'), { verify: true })).files, manifestOf(listed).files);
    const bad = join(root, 'late-bad.tar');
    await writeFile(
      bad,
      rawTar([
        { path: 'pages-1.img', body: Buffer.from('abcdeX') },
        { path: MANIFEST_FILE, body: manifest },
      ]),
    );
    await assertRefused(bad, { code: 'CEDANA_ERR_CHECKPOINT_INVALID', message: /checkpoint file pages-1\.img does not match/ });
  });

  it('without verify, unpacks a changed archive as it is', async () => {
    const archive = join(root, 'unverified.tar');
    await writeFile(archive, tampered('pages-1.img', 1));
    assert.equal(await unpackCheckpoint(archive, join(root, 'unverified')), undefined);
  });
});

/** The plain tar stream of an archive. */
async function decode(path: string, compression: Exclude<Compression, 'none'>): Promise<Buffer> {
  return run(await readFile(path), CODECS[compression].decoders(path));
}

/** `tar` compressed as packCheckpoint would (without a stored head). */
async function encode(tar: Buffer, compression: 'lz4' | 'gzip' | 'zlib' | 'zstd'): Promise<Buffer> {
  return run(tar, compression === 'zlib' ? [createDeflate()] : CODECS[compression].encoders());
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
