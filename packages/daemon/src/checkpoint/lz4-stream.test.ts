import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { compressFrame } from 'lz4-napi';
import { Lz4FrameDecoder, Lz4FrameEncoder } from './lz4-stream.js';

/** Like CRIU page images: 4 KiB pages, half random, half zeros. */
function pages(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += 8192) randomBytes(Math.min(4096, bytes - at)).copy(out, at);
  return out;
}

async function through(input: Buffer[], stage: Lz4FrameEncoder | Lz4FrameDecoder): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(input), stage, sink);
  return Buffer.concat(out);
}

/** `data` cut into pieces of the given sizes, cycling. */
function cut(data: Buffer, sizes: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    pieces.push(data.subarray(at, at + n));
    at += n;
  }
  return pieces;
}

const hasLz4Cli = spawnSync('lz4', ['--version']).status === 0;

describe('LZ4 streams', () => {
  const data = pages(9 << 20);

  it('round-trips, in one frame of 4 MiB blocks', async () => {
    const encoded = await through([data], new Lz4FrameEncoder());
    assert.ok(encoded.length < data.length * 0.6, `compressed to ${encoded.length}`);
    assert.ok(data.equals(await through([encoded], new Lz4FrameDecoder())));
  });

  it('decodes a stream cut at odd boundaries, down to single bytes inside headers', async () => {
    const encoded = await through(cut(data, [3, 1 << 20, 17]), new Lz4FrameEncoder());
    const head = cut(encoded.subarray(0, 4096), [1, 2, 5]);
    const rest = cut(encoded.subarray(4096), [65_537, 1, 3, 999_983]);
    assert.ok(data.equals(await through([...head, ...rest], new Lz4FrameDecoder())));
  });

  it('decodes every frame of a concatenation (what archives made with lz4-napi hold: a frame per 1 MiB piece)', async () => {
    const frames = await Promise.all([compressFrame(Buffer.from('one ')), compressFrame(Buffer.from('two'))]);
    assert.equal((await through(frames, new Lz4FrameDecoder())).toString(), 'one two');
  });

  it('skips skippable frames', async () => {
    const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    const frame = await compressFrame(Buffer.from('payload'));
    assert.equal((await through(cut(Buffer.concat([skippable, frame]), [5]), new Lz4FrameDecoder())).toString(), 'payload');
  });

  it('refuses a truncated stream with CEDANA_ERR_CHECKPOINT_INVALID', async () => {
    const encoded = await through([data], new Lz4FrameEncoder());
    await assert.rejects(
      through([encoded.subarray(0, encoded.length - 3)], new Lz4FrameDecoder({ source: 'the test stream' })),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CEDANA_ERR_CHECKPOINT_INVALID');
        assert.match(err.message, /the test stream .*truncated/);
        return true;
      },
    );
  });

  it('refuses a corrupted frame (content checksum)', async () => {
    const encoded = Buffer.from(await through([randomBytes(1 << 20)], new Lz4FrameEncoder()));
    encoded[500_000] = (encoded[500_000] ?? 0) ^ 1;
    await assert.rejects(through([encoded], new Lz4FrameDecoder()), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /does not decode \(ERROR_contentChecksum_invalid\)/,
    });
  });

  it('refuses data that is not LZ4', async () => {
    await assert.rejects(through([Buffer.from('hello, not lz4')], new Lz4FrameDecoder()), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /frame magic/,
    });
    await assert.rejects(through([], new Lz4FrameDecoder()), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /is empty: its LZ4 stream holds no frame/,
    });
  });

  it('writes frames the lz4 CLI decodes', { skip: hasLz4Cli ? false : 'the lz4 CLI is not installed' }, async () => {
    const encoded = await through([data], new Lz4FrameEncoder());
    const cli = spawnSync('lz4', ['-d', '-c'], { input: encoded, maxBuffer: 64 << 20 });
    assert.equal(cli.status, 0, cli.stderr.toString());
    assert.ok(data.equals(cli.stdout));
  });

  it('decodes lz4 CLI frames of every block size, linked or independent, fed in odd pieces', {
    skip: hasLz4Cli ? false : 'the lz4 CLI is not installed',
  }, async () => {
    for (const flags of [['-B4'], ['-B7'], ['-BD', '-B4'], ['-BD', '-B7']]) {
      const cli = spawnSync('lz4', ['-1', ...flags, '-c'], { input: data, maxBuffer: 64 << 20 });
      assert.equal(cli.status, 0, cli.stderr.toString());
      assert.ok(data.equals(await through(cut(cli.stdout, [100_003, 1, 7]), new Lz4FrameDecoder())), flags.join(' '));
    }
  });

  it('an empty input still becomes a valid (empty) frame', async () => {
    const encoded = await through([], new Lz4FrameEncoder());
    assert.equal((await through([encoded], new Lz4FrameDecoder())).length, 0);
  });
});
