/**
 * XXH64 (Cyan4973/xxHash:doc/xxhash_spec.md), whose low 32 bits are the content
 * checksum of a zstd frame. BigInt arithmetic: only for the few KiB of checkpoint.json
 * stored by hand (stored-head.ts); zstd itself checks everything else.
 */
const M = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
const round = (acc: bigint, lane: bigint) => (rotl((acc + lane * P2) & M, 31n) * P1) & M;
const merge = (acc: bigint, v: bigint) => ((acc ^ round(0n, v)) * P1 + P4) & M;

export function xxh64(data: Uint8Array, seed = 0n): bigint {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = data.length;
  let at = 0;
  let acc: bigint;
  if (length >= 32) {
    let v1 = (seed + P1 + P2) & M;
    let v2 = (seed + P2) & M;
    let v3 = seed & M;
    let v4 = (seed - P1) & M;
    for (; at + 32 <= length; at += 32) {
      v1 = round(v1, view.getBigUint64(at, true));
      v2 = round(v2, view.getBigUint64(at + 8, true));
      v3 = round(v3, view.getBigUint64(at + 16, true));
      v4 = round(v4, view.getBigUint64(at + 24, true));
    }
    acc = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    for (const v of [v1, v2, v3, v4]) acc = merge(acc, v);
  } else {
    acc = (seed + P5) & M;
  }
  acc = (acc + BigInt(length)) & M;
  for (; at + 8 <= length; at += 8) acc = (rotl(acc ^ round(0n, view.getBigUint64(at, true)), 27n) * P1 + P4) & M;
  if (at + 4 <= length) {
    acc = (rotl(acc ^ ((BigInt(view.getUint32(at, true)) * P1) & M), 23n) * P2 + P3) & M;
    at += 4;
  }
  for (; at < length; at++) acc = (rotl(acc ^ ((BigInt(data[at] ?? 0) * P5) & M), 11n) * P1) & M;
  acc = ((acc ^ (acc >> 33n)) * P2) & M;
  acc = ((acc ^ (acc >> 29n)) * P3) & M;
  return acc ^ (acc >> 32n);
}
