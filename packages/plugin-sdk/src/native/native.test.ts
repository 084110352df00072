import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AddonBuildError, buildAddon, CODEC_LIBRARIES, CODEC_SOURCES, type Lz4Codec, loadAddon } from './index.js';

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
