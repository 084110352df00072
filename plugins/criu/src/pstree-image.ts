/**
 * Reading the root PID out of CRIU's pstree.img without crit: the image is two magic
 * words, then entries of (u32 little-endian length, protobuf PstreeEntry); the first
 * entry is the root, and its field 1 (varint) is the PID.
 */
import { readFile } from 'node:fs/promises';

const IMG_COMMON_MAGIC = 0x54564319;
const IMG_SERVICE_MAGIC = 0x55105940;
const PSTREE_MAGIC = 0x50273030;

/** The root PID of a pstree.img's bytes, or undefined when they are not one. */
export function parseRootPid(buf: Buffer): number | undefined {
  if (buf.length < 8) return undefined;
  const first = buf.readUInt32LE(0);
  let at = first === IMG_COMMON_MAGIC || first === IMG_SERVICE_MAGIC ? 4 : 0;
  if (buf.readUInt32LE(at) !== PSTREE_MAGIC) return undefined;
  at += 4;
  if (buf.length < at + 4) return undefined;
  const size = buf.readUInt32LE(at);
  at += 4;
  const end = at + size;
  if (end > buf.length) return undefined;
  while (at < end) {
    const tag = readVarint(buf, at, end);
    if (!tag) return undefined;
    at = tag.next;
    const [field, wire] = [Math.floor(tag.value / 8), tag.value % 8];
    if (wire !== 0) return undefined; // PstreeEntry has only varints
    const value = readVarint(buf, at, end);
    if (!value) return undefined;
    if (field === 1) return value.value;
    at = value.next;
  }
  return undefined;
}

function readVarint(buf: Buffer, at: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let shift = 0, i = at; i < end && shift < 35; shift += 7, i++) {
    const byte = buf[i] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}

/** The root PID recorded in `path` (a pstree.img), or undefined when it cannot be read. */
export async function readRootPid(path: string): Promise<number | undefined> {
  try {
    return parseRootPid(await readFile(path));
  } catch {
    return undefined;
  }
}
