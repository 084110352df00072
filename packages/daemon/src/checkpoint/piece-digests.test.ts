/**
 * FileDigest.pieces: the helper's XXH64 (xxh64.c) agrees with the spec's reference
 * implementation (xxh64.ts) whatever the split of the bytes, a piece is PIECE_BYTES, and
 * firstBadPiece names where a changed byte is.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { HELPER_ADDON, helperReady } from './native-codec.js';
import { firstBadPiece, PIECE_BYTES, PieceHasher } from './piece-digests.js';
import { xxh64 } from './xxh64.js';

const hex = (data: Uint8Array) => xxh64(data).toString(16).padStart(16, '0');

describe('pieces digests (XXH64 per piece)', () => {
  before(async () => {
    await helperReady();
  });

  it('match the reference XXH64, in any split, one digest per piece', () => {
    const empty = new PieceHasher(HELPER_ADDON);
    assert.deepEqual(empty.finish(), { bytes: PIECE_BYTES, xxh64: ['ef46db3751d8e999'] }, 'the spec: XXH64 of nothing');
    for (const n of [1, 4, 7, 8, 31, 32, 33, 64, 1000, 4099]) {
      const data = randomBytes(n);
      const h = new PieceHasher(HELPER_ADDON);
      for (let at = 0; at < n; at += 5) h.update(data.subarray(at, at + 5));
      assert.deepEqual(h.finish().xxh64, [hex(data)], `${n} bytes`);
    }
    const big = Buffer.alloc(PIECE_BYTES * 2 + 3, 7);
    const h = new PieceHasher(HELPER_ADDON);
    h.update(big.subarray(0, PIECE_BYTES - 1));
    h.update(big.subarray(PIECE_BYTES - 1));
    const got = h.finish();
    assert.equal(got.xxh64.length, 3);
    assert.equal(got.xxh64[2], hex(big.subarray(2 * PIECE_BYTES)));
  });

  it('firstBadPiece names the offset of the first piece that differs', () => {
    const want = { bytes: PIECE_BYTES, xxh64: ['a', 'b', 'c'] };
    assert.equal(firstBadPiece({ ...want }, want), undefined);
    assert.equal(firstBadPiece({ bytes: PIECE_BYTES, xxh64: ['a', 'x', 'c'] }, want), PIECE_BYTES);
    assert.equal(firstBadPiece({ bytes: PIECE_BYTES, xxh64: ['a', 'b'] }, want), 2 * PIECE_BYTES);
  });
});
