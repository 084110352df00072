/**
 * XXH32 (Cyan4973/xxHash:doc/xxhash_spec.md), the checksum of the LZ4 frame format.
 * Only for the few KiB of frames written by hand (stored-head.ts); lz4-napi checks
 * and computes it for everything else.
 */
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const round = (acc: number, lane: number) => Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);

export function xxh32(data: Uint8Array, seed = 0): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = data.length;
  let at = 0;
  let acc: number;
  if (length >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    for (; at + 16 <= length; at += 16) {
      v1 = round(v1, view.getUint32(at, true));
      v2 = round(v2, view.getUint32(at + 4, true));
      v3 = round(v3, view.getUint32(at + 8, true));
      v4 = round(v4, view.getUint32(at + 12, true));
    }
    acc = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    acc = (seed + P5) | 0;
  }
  acc = (acc + length) | 0;
  for (; at + 4 <= length; at += 4) acc = Math.imul(rotl((acc + Math.imul(view.getUint32(at, true), P3)) | 0, 17), P4);
  for (; at < length; at++) acc = Math.imul(rotl((acc + Math.imul(data[at] ?? 0, P5)) | 0, 11), P1);
  acc = Math.imul(acc ^ (acc >>> 15), P2);
  acc = Math.imul(acc ^ (acc >>> 13), P3);
  return (acc ^ (acc >>> 16)) >>> 0;
}
