import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { CODECS } from './codecs.js';
import { adler32, adler32Combine, GZIP_HEAD, LZ4_HEAD, ZLIB_HEAD, ZlibContinuation, ZSTD_HEAD } from './stored-head.js';
import { xxh32 } from './xxh32.js';
import { xxh64 } from './xxh64.js';

/** Runs `data` through `stages` in chunks of `chunkBytes`; the concatenated output. */
async function through(data: Buffer, stages: Transform[], chunkBytes = 7777): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const pieces = Array.from({ length: Math.ceil(data.length / chunkBytes) }, (_, i) => data.subarray(i * chunkBytes, (i + 1) * chunkBytes));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await pipeline([Readable.from(pieces), ...stages, sink]);
  return Buffer.concat(chunks);
}

/** Head lengths around each framing's block boundaries. */
const LENGTHS = [1, 15, 16, 17, 512, 65535, 65536, 131071, (4 << 20) + 1];

describe('stored heads', () => {
  it('xxh32 matches the content checksum lz4 writes', async () => {
    for (const n of [0, 1, 3, 4, 15, 16, 17, 31, 1000]) {
      const data = randomBytes(n);
      const frame = await compressFrame(data, { contentChecksum: true });
      assert.equal(xxh32(data), frame.readUInt32LE(frame.length - 4), `${n} bytes`);
    }
  });

  it('xxh64 matches known test vectors and the content checksum zstd writes', () => {
    assert.equal(xxh64(Buffer.alloc(0)), 0xef46db3751d8e999n);
    assert.equal(xxh64(Buffer.from('a')), 0xd24ec4f1a98c6e5bn);
    assert.equal(xxh64(Buffer.from('abc')), 0x44bc2cf5ad770999n);
    const cli = spawnSync('zstd', ['--version']).status === 0;
    if (!cli) return;
    for (const n of [1, 4, 7, 8, 31, 32, 33, 1000]) {
      const data = randomBytes(n);
      const frame = spawnSync('zstd', ['-c', '--check'], { input: data }).stdout;
      assert.equal(Number(xxh64(data) & 0xffffffffn), frame.readUInt32LE(frame.length - 4), `${n} bytes`);
    }
  });

  it('adler32 and adler32Combine agree with zlib', () => {
    const a = randomBytes(70000);
    const b = Buffer.concat([randomBytes(9000), Buffer.alloc(100000, 0xff)]);
    const trailer = (data: Buffer) => deflateSync(data).readUInt32BE(deflateSync(data).length - 4);
    assert.equal(adler32(a), trailer(a));
    assert.equal(adler32Combine(adler32(a), adler32(b), b.length), trailer(Buffer.concat([a, b])));
  });

  for (const n of LENGTHS) {
    it(`encodes a ${n}-byte head to its announced length, and decoders read head + rest`, async () => {
      const head = randomBytes(n);
      const rest = Buffer.concat([randomBytes(50000), Buffer.alloc(200000)]);
      const whole = Buffer.concat([head, rest]);

      const lz4 = LZ4_HEAD.encode(head);
      assert.equal(lz4.length, LZ4_HEAD.length(n));
      assert.deepEqual(await decompressFrame(lz4), head, 'lz4-napi checks the frame and its checksum');
      const lz4Archive = Buffer.concat([lz4, await through(rest, CODECS.lz4.encoders())]);
      assert.deepEqual(await through(lz4Archive, CODECS.lz4.decoders('test')), whole);

      const zst = ZSTD_HEAD.encode(head);
      assert.equal(zst.length, ZSTD_HEAD.length(n));
      assert.deepEqual(await zstdDecompress(zst), head, 'zstd checks the frame and its checksum');
      const zstArchive = Buffer.concat([zst, await through(rest, CODECS.zstd.encoders())]);
      assert.deepEqual(await through(zstArchive, CODECS.zstd.decoders('test')), whole);

      const gz = GZIP_HEAD.encode(head);
      assert.equal(gz.length, GZIP_HEAD.length(n));
      assert.deepEqual(gunzipSync(Buffer.concat([gz, gzipSync(rest)])), whole, 'gzip members concatenate');

      const z = ZLIB_HEAD.encode(head);
      assert.equal(z.length, ZLIB_HEAD.length(n));
      const zArchive = Buffer.concat([
        z,
        await through(
          rest,
          CODECS.zlib.encoders(() => head),
        ),
      ]);
      assert.deepEqual(inflateSync(zArchive), whole, 'inflate checks the adler32 of head + rest');
    });
  }

  it('refuses a stored lz4 head with a changed byte', async () => {
    const frame = LZ4_HEAD.encode(Buffer.from('{"files":{"pages-1.img":{"size":1}}}'));
    frame[20] = (frame[20] ?? 0) ^ 1;
    await assert.rejects(decompressFrame(frame));
  });

  it('refuses a stored zstd head with a changed byte (content checksum)', async () => {
    const frame = ZSTD_HEAD.encode(Buffer.from('{"files":{"pages-1.img":{"size":1}}}'));
    frame[20] = (frame[20] ?? 0) ^ 1;
    await assert.rejects(zstdDecompress(frame));
  });

  it('ZlibContinuation drops the rest’s zlib header and replaces its trailer', async () => {
    const head = Buffer.from('head');
    const rest = randomBytes(1000);
    const out = await through(
      deflateSync(rest),
      [
        new ZlibContinuation(
          () => head,
          () => rest.length,
        ),
      ],
      3,
    );
    assert.deepEqual(inflateSync(Buffer.concat([ZLIB_HEAD.encode(head), out])), Buffer.concat([head, rest]));
  });

  const cli = spawnSync('lz4', ['--version']).status === 0 && spawnSync('gzip', ['--version']).status === 0;
  it('writes heads the lz4 and gzip CLIs decode', { skip: cli ? false : 'the lz4 or gzip CLI is not installed' }, async () => {
    const head = randomBytes(70000);
    const rest = randomBytes(1000);
    const lz4 = Buffer.concat([LZ4_HEAD.encode(head), await compressFrame(rest)]);
    assert.deepEqual(spawnSync('lz4', ['-d', '-c'], { input: lz4 }).stdout, Buffer.concat([head, rest]));
    const gz = Buffer.concat([GZIP_HEAD.encode(head), gzipSync(rest)]);
    assert.deepEqual(spawnSync('gzip', ['-d', '-c'], { input: gz }).stdout, Buffer.concat([head, rest]));
  });

  const zstdCli = spawnSync('zstd', ['--version']).status === 0;
  it('writes heads the zstd CLI decodes and checks', { skip: zstdCli ? false : 'the zstd CLI is not installed' }, async () => {
    const head = randomBytes(300000);
    const rest = randomBytes(1000);
    const zst = Buffer.concat([ZSTD_HEAD.encode(head), await zstdCompress(rest, 1)]);
    const cli = spawnSync('zstd', ['-d', '-c'], { input: zst, maxBuffer: 16 << 20 });
    assert.equal(cli.status, 0, cli.stderr.toString());
    assert.deepEqual(cli.stdout, Buffer.concat([head, rest]));
    zst[100] = (zst[100] ?? 0) ^ 1;
    assert.notEqual(spawnSync('zstd', ['-d', '-c'], { input: zst, maxBuffer: 16 << 20 }).status, 0, 'the CLI checks the checksum');
  });
});
