import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { before, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { replyFrame, requestName } from '@cedana/plugin-sdk/native';
import { compressSync, uncompressSync } from 'lz4-napi';
import { ensureAddon } from './build-addon.js';
import { bodyDigest, DamagedChunk, decodeChunk } from './chunk.js';
import { CHUNK_HEADER, type ChunkEntry, chunkHeader, type ImageEntry, INDEX_FORMAT, parseIndex, type StreamIndex } from './format.js';
import { type Lz4Block, loadAddon } from './native.js';

let lz4: Lz4Block;
before(async () => {
  lz4 = loadAddon(await ensureAddon());
});

const H = (n: number) => String(n).repeat(64);

/** Two images over two shards: a (2 chunks: shard 0 then 1) and b (1 chunk, shard 0 after a's first). */
function index(): StreamIndex {
  return {
    format: INDEX_FORMAT,
    streams: 2,
    compression: 'lz4',
    chunkSize: 1 << 20,
    images: [
      {
        name: 'a.img',
        size: 30,
        chunks: [
          { s: 0, o: 0, n: 10, r: 20, h: H(1) },
          { s: 1, o: 0, n: 5, r: 10, h: H(2) },
        ],
      },
      { name: 'b.img', size: 7, chunks: [{ s: 0, o: CHUNK_HEADER + 10, n: 7, r: 7, h: H(3) }] },
    ],
    shards: [2 * CHUNK_HEADER + 17, CHUNK_HEADER + 5],
  };
}

it('accepts an index whose chunks tile every shard', () => {
  const parsed = parseIndex(JSON.stringify(index()), 2);
  assert.equal(typeof parsed, 'object');
});

it('refuses an index that disagrees with the stream count, the shards or the image sizes', () => {
  assert.match(parseIndex(JSON.stringify(index()), 3) as string, /describes 2 streams .* checkpoint.json says 3/);
  const gap = index();
  (gap.images[1]?.chunks[0] as ChunkEntry).o += 1;
  assert.match(parseIndex(JSON.stringify(gap), 2) as string, /img-0\.lz4 has a gap or an overlap/);
  const short = index();
  short.shards[1] = 999;
  assert.match(parseIndex(JSON.stringify(short), 2) as string, /img-1\.lz4 cover \d+ bytes, the shard has 999/);
  const size = index();
  (size.images[0] as { size: number }).size = 31;
  assert.match(parseIndex(JSON.stringify(size), 2) as string, /chunks of a\.img hold 30 bytes, expected 31/);
  assert.match(parseIndex('{', 2) as string, /not valid JSON/);
  assert.match(parseIndex(JSON.stringify({ ...index(), format: 9 }), 2) as string, /format 9/);
  const undigested = index();
  delete ((undigested.images[1] as ImageEntry).chunks[0] as ChunkEntry).h;
  assert.match(parseIndex(JSON.stringify(undigested), 2) as string, /a chunk of b\.img has no sha256/);
});

it('still reads a format 1 index (a crc32 per chunk), and not one without its crc32s', () => {
  const old = index();
  old.format = 1;
  for (const image of old.images) for (const [i, c] of image.chunks.entries()) Object.assign(c, { h: undefined, c: i + 1 });
  assert.equal(typeof parseIndex(JSON.stringify(old), 2), 'object');
  delete ((old.images[0] as ImageEntry).chunks[1] as ChunkEntry).c;
  assert.match(parseIndex(JSON.stringify(old), 2) as string, /a chunk of a\.img has no crc32/);
});

for (const format of [2, 1]) {
  it(`decodes a chunk and names the image, shard and offset of a damaged one (format ${format})`, () => {
    const raw = Buffer.from('hello hello hello hello');
    const body = compressSync(raw);
    const digestOf = (b: Buffer) => (format === 1 ? { c: crc32(b) } : { h: bodyDigest(b) });
    const c: ChunkEntry = { s: 1, o: 4096, n: body.length, r: raw.length, ...digestOf(body) };
    const stored = Buffer.concat([chunkHeader(3, raw.length, body.length), body]);
    assert.deepEqual(decodeChunk(lz4, stored, stored.length, 3, 'pages-1.img', c), raw);

    const flipped = Buffer.from(stored);
    flipped[CHUNK_HEADER + 2] = (flipped[CHUNK_HEADER + 2] as number) ^ 1;
    assert.throws(
      () => decodeChunk(lz4, flipped, stored.length, 3, 'pages-1.img', c),
      (e: Error) => {
        assert.ok(e instanceof DamagedChunk);
        assert.match(
          e.message,
          new RegExp(`chunk of pages-1\\.img at byte 4096 of img-1\\.lz4 does not match its ${format === 1 ? 'crc32' : 'sha256'}`),
        );
        return true;
      },
    );
    assert.throws(() => decodeChunk(lz4, stored, stored.length - 1, 3, 'pages-1.img', c), /only \d+ of \d+ bytes could be read/);
    assert.throws(() => decodeChunk(lz4, stored, stored.length, 4, 'pages-1.img', c), /header says image 3/);

    const cut = Buffer.concat([chunkHeader(3, raw.length, body.length - 1), body.subarray(0, -1)]);
    const cutEntry = { ...c, n: body.length - 1, ...digestOf(body.subarray(0, -1)) };
    assert.throws(() => decodeChunk(lz4, cut, cut.length, 3, 'pages-1.img', cutEntry), /is not an lz4 block of 23 bytes/);
  });
}

it("writes and reads lz4-napi's layout: either codec reads the other's chunks", () => {
  const page = (o: number, data: Buffer) => randomFillSync(data, o, 2048); // half random, half zeros
  const halfRandom = Buffer.alloc(1 << 20);
  for (let o = 0; o < halfRandom.length; o += 4096) page(o, halfRandom);
  for (const raw of [halfRandom, randomFillSync(Buffer.alloc(65536)), Buffer.from('x'), Buffer.alloc(0)]) {
    const out = Buffer.alloc(lz4.compressBound(raw.length));
    const mine = out.subarray(0, lz4.compress(raw, out));
    assert.deepEqual(uncompressSync(mine), raw);
    const theirs = compressSync(raw);
    const back = Buffer.alloc(raw.length);
    assert.equal(lz4.decompress(theirs, back), raw.length);
    assert.deepEqual(back, raw);
  }
  const packed = Buffer.alloc(lz4.compressBound(halfRandom.length));
  assert.ok(lz4.compress(halfRandom, packed) < halfRandom.length * 0.55, 'half-random pages compress about 2:1');
  assert.equal(lz4.decompress(Buffer.from([5, 0, 0, 0, 0xff]), Buffer.alloc(5)), -1, 'a block cut short');
  assert.equal(lz4.decompress(compressSync(halfRandom), Buffer.alloc(1000)), -1, 'a destination too small');
  assert.throws(() => lz4.compress(halfRandom, Buffer.alloc(10)), /smaller than compressBound/);
});

it("speaks CRIU's img-streamer protobufs", () => {
  // img_streamer_request_entry { filename = "pages-1.img" }
  const name = Buffer.from('pages-1.img');
  assert.equal(requestName(Buffer.concat([Buffer.from([0x0a, name.length]), name])), 'pages-1.img');
  assert.throws(() => requestName(Buffer.from([0x12, 0])), /unexpected request/);
  // img_streamer_reply_entry { exists }, after a u32 length
  assert.deepEqual(replyFrame(true), Buffer.from([2, 0, 0, 0, 0x08, 1]));
  assert.deepEqual(replyFrame(false), Buffer.from([2, 0, 0, 0, 0x08, 0]));
});
