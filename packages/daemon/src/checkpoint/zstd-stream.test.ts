import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { compress } from '@mongodb-js/zstd';
import { ZstdFrameDecoder, ZstdFrameEncoder } from './zstd-stream.js';

/** Like CRIU page images: 4 KiB pages, half random, half zeros. */
function pages(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += 8192) randomBytes(Math.min(4096, bytes - at)).copy(out, at);
  return out;
}

async function through(input: Buffer[], stage: Transform): Promise<Buffer> {
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

const hasZstdCli = spawnSync('zstd', ['--version']).status === 0;

describe('zstd streams', () => {
  const data = pages(9 << 20);

  it('round-trips', async () => {
    const encoded = await through([data], new ZstdFrameEncoder());
    assert.ok(encoded.length < data.length * 0.6, `compressed to ${encoded.length}`);
    assert.ok(data.equals(await through([encoded], new ZstdFrameDecoder())));
  });

  it('reads the archives of earlier versions: a @mongodb-js/zstd frame per 4 MiB piece, back to back', async () => {
    const frames = await Promise.all(cut(data, [4 << 20]).map((piece) => compress(piece, 3)));
    assert.equal(frames.length, 3);
    assert.ok(data.equals(await through(cut(Buffer.concat(frames), [65_536]), new ZstdFrameDecoder())));
  });

  it('holds a few buffers, not what a run of zeros decodes to: its output waits for the reader', async () => {
    const zeros = Buffer.alloc(1 << 20);
    const mib = 256;
    const encoded = await through(
      Array.from({ length: mib }, () => zeros),
      new ZstdFrameEncoder(),
    );
    assert.ok(encoded.length < 64 << 10, `${mib} MiB of zeros compressed to ${encoded.length}`);
    const decoder = new ZstdFrameDecoder();
    let bytes = 0;
    let held = 0;
    const slow = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        held = Math.max(held, decoder.readableLength);
        setImmediate(callback);
      },
    });
    await pipeline(Readable.from([encoded]), decoder, slow);
    assert.equal(bytes, mib << 20);
    assert.ok(held <= 4 << 20, `the decoder held ${held} bytes of output`);
  });

  it('decodes a stream cut at odd boundaries, down to single bytes inside headers', async () => {
    const encoded = await through(cut(data, [3, 1 << 20, 17]), new ZstdFrameEncoder());
    const head = cut(encoded.subarray(0, 4096), [1, 2, 5]);
    const rest = cut(encoded.subarray(4096), [65_537, 1, 3, 999_983]);
    assert.ok(data.equals(await through([...head, ...rest], new ZstdFrameDecoder())));
  });

  it('encodes an empty input as one empty frame', async () => {
    const encoded = await through([], new ZstdFrameEncoder());
    assert.equal(encoded.readUInt32LE(0), 0xfd2fb528);
    assert.equal((await through([encoded], new ZstdFrameDecoder())).length, 0);
  });

  it('skips skippable frames', async () => {
    const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    const frame = await compress(Buffer.from('payload'), 1);
    assert.equal((await through(cut(Buffer.concat([skippable, frame]), [5]), new ZstdFrameDecoder())).toString(), 'payload');
  });

  it('refuses a truncated stream with CEDANA_ERR_CHECKPOINT_INVALID naming the source', async () => {
    const encoded = await through([data], new ZstdFrameEncoder());
    for (const end of [encoded.length - 3, 2]) {
      await assert.rejects(through([encoded.subarray(0, end)], new ZstdFrameDecoder({ source: 'the test stream' })), {
        code: 'CEDANA_ERR_CHECKPOINT_INVALID',
        message: new RegExp(
          `^the test stream is truncated: its zstd stream ends inside a frame, at byte ${end} \\(\\d+ more bytes expected next\\)`,
        ),
      });
    }
  });

  it('refuses a damaged block header and a frame that does not decode', async () => {
    const encoded = Buffer.from(await through([data.subarray(0, 1 << 20)], new ZstdFrameEncoder()));
    const reserved = Buffer.from(encoded);
    reserved[6] = (reserved[6] ?? 0) | 0x06; // the first block's type becomes 3 (reserved)
    await assert.rejects(through([reserved], new ZstdFrameDecoder({ source: 'x.tar.zst' })), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /^x\.tar\.zst is damaged near byte 0 of its zstd stream: it does not decode \((Data corruption|Corrupted block) detected\)/,
    });
    const garbled = Buffer.from(encoded);
    garbled.fill(0xff, 9, 64); // inside the first compressed block's headers
    await assert.rejects(through([garbled], new ZstdFrameDecoder({ source: 'x.tar.zst' })), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /^x\.tar\.zst is damaged/,
    });
  });

  it('refuses data that is not zstd, and an empty stream', async () => {
    await assert.rejects(through([Buffer.from('hello, not zstd')], new ZstdFrameDecoder()), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /frame magic/,
    });
    await assert.rejects(through([], new ZstdFrameDecoder()), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /is empty: its zstd stream holds no frame/,
    });
  });

  it('writes frames the zstd CLI decodes, and decodes what it writes', {
    skip: hasZstdCli ? false : 'the zstd CLI is not installed',
  }, async () => {
    const encoded = await through([data], new ZstdFrameEncoder());
    const cli = spawnSync('zstd', ['-d', '-c'], { input: encoded, maxBuffer: 64 << 20 });
    assert.equal(cli.status, 0, cli.stderr.toString());
    assert.ok(data.equals(cli.stdout));
    const written = spawnSync('zstd', ['-1', '-c'], { input: data, maxBuffer: 64 << 20 });
    assert.ok(data.equals(await through(cut(written.stdout, [100_003]), new ZstdFrameDecoder())), 'one CLI frame, with its checksum');
    // A frame that needs a window beyond libzstd's default limit (128 MiB) is refused, not decoded into memory.
    const long = spawnSync('zstd', ['--long=28', '-c'], { input: data.subarray(0, 1 << 20), maxBuffer: 64 << 20 });
    await assert.rejects(through([long.stdout], new ZstdFrameDecoder({ source: 'x.tar.zst' })), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /^x\.tar\.zst is damaged near byte 0 of its zstd stream: it does not decode \(Frame requires too much memory for decoding\)/,
    });
  });
});
