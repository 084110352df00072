import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  AddonBuildError,
  buildAddon,
  CODEC_LIBRARIES,
  CODEC_SOURCES,
  type Lz4Codec,
  loadAddon,
  ZSTD_CODEC_LIBRARIES,
  ZSTD_CODEC_SOURCES,
  type ZstdCodec,
} from './index.js';

describe('the native codec', () => {
  let dir: string | undefined;
  after(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  it('builds from the SDK sources; its frames and blocks round-trip', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cedana-codec-'));
    const path = await buildAddon({ output: join(dir, 'codec.node'), sources: CODEC_SOURCES, libraries: CODEC_LIBRARIES });
    const codec = loadAddon<Lz4Codec>(path);
    const data = Buffer.concat([Buffer.alloc(100_000, 7), Buffer.from('the end')]);
    const enc = codec.encoderCreate(0, 4, true);
    const out = Buffer.alloc(codec.encoderBound(enc, data.length) + 64);
    let n = codec.encoderBegin(enc, out);
    n += codec.encoderUpdate(enc, data, out.subarray(n));
    n += codec.encoderEnd(enc, out.subarray(n));
    assert.ok(n < data.length / 10, `compressed to ${n}`);
    const plain = Buffer.alloc(data.length);
    const [used, made, hint] = codec.decode(codec.decoderCreate(), out.subarray(0, n), plain);
    assert.deepEqual([used, made, hint], [n, data.length, 0]);
    assert.ok(plain.equals(data));
    const block = Buffer.alloc(codec.compressBound(data.length));
    const back = Buffer.alloc(data.length);
    assert.equal(codec.decompress(block.subarray(0, codec.compress(data, block)), back), data.length);
    assert.ok(back.equals(data));
    // A changed byte is refused, by name.
    out[n - 6] = (out[n - 6] ?? 0) ^ 0xff;
    assert.throws(() => codec.decode(codec.decoderCreate(), out.subarray(0, n), plain), { code: 'LZ4F' });
  });

  it('builds the zstd codec from the SDK sources; its frames round-trip off the main thread', async () => {
    dir ??= await mkdtemp(join(tmpdir(), 'cedana-codec-'));
    const path = await buildAddon({ output: join(dir, 'zstd.node'), sources: ZSTD_CODEC_SOURCES, libraries: ZSTD_CODEC_LIBRARIES });
    const codec = loadAddon<ZstdCodec>(path);
    const data = Buffer.concat([Buffer.alloc(100_000, 7), Buffer.from('the end')]);
    const out = Buffer.alloc(64 << 10);
    const [used, n, left] = await codec.zstdEncode(codec.zstdEncoderCreate(3, 0, true), data, out, true);
    assert.deepEqual([used, left], [data.length, 0]);
    assert.ok(n < data.length / 10, `compressed to ${n}`);
    const plain = Buffer.alloc(data.length);
    assert.deepEqual(await codec.zstdDecode(codec.zstdDecoderCreate(), out.subarray(0, n), plain), [n, data.length, 0]);
    assert.ok(plain.equals(data));
    // A changed byte of the content checksum is refused, by name.
    out[n - 1] = (out[n - 1] ?? 0) ^ 0xff;
    await assert.rejects(codec.zstdDecode(codec.zstdDecoderCreate(), out.subarray(0, n), plain), { code: 'ZSTD', message: /checksum/i });
    assert.throws(() => codec.zstdEncode(codec.zstdDecoderCreate(), data, out, true), TypeError);
  });

  it('says why it cannot build, and leaves nothing behind', async () => {
    const output = join(tmpdir(), `cedana-codec-missing-${process.pid}.node`);
    await assert.rejects(buildAddon({ output, sources: CODEC_SOURCES, libraries: CODEC_LIBRARIES, cc: 'no-such-cc' }), (err: unknown) => {
      assert.ok(err instanceof AddonBuildError);
      assert.match(err.why, /no C compiler "no-such-cc" on PATH/);
      return true;
    });
    assert.equal(existsSync(output), false);
  });
});
