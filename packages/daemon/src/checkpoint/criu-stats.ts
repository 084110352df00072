/**
 * CRIU's stats-dump and stats-restore images (criu/stats.c, images/stats.proto), which
 * CRIU leaves in the images folder: IMG_SERVICE_MAGIC, STATS_MAGIC, then one entry (u32
 * length + a StatsEntry message). Every field read is a varint, so a few lines of
 * protobuf decoding do; times are microseconds. A missing or unreadable file gives {}:
 * the figures are for --print-stats, never a reason to fail a dump or restore.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const IMG_SERVICE_MAGIC = 0x55105940;
const STATS_MAGIC = 0x57093306;

export interface CriuStats {
  freezingNs?: number;
  frozenNs?: number;
  memdumpNs?: number;
  memwriteNs?: number;
  pagesWritten?: number;
  forkingNs?: number;
  restoreNs?: number;
  pagesRestored?: number;
}

/** StatsEntry { dump_stats_entry dump = 1; restore_stats_entry restore = 2; }, by field number. */
const DUMP_FIELDS: Record<number, [keyof CriuStats, number]> = {
  1: ['freezingNs', 1000],
  2: ['frozenNs', 1000],
  3: ['memdumpNs', 1000],
  4: ['memwriteNs', 1000],
  7: ['pagesWritten', 1],
};
const RESTORE_FIELDS: Record<number, [keyof CriuStats, number]> = {
  3: ['forkingNs', 1000],
  4: ['restoreNs', 1000],
  5: ['pagesRestored', 1],
};

/** The figures of `dir`/stats-dump or stats-restore. */
export async function readCriuStats(dir: string, kind: 'dump' | 'restore'): Promise<CriuStats> {
  const bytes = await readFile(join(dir, `stats-${kind}`)).catch(() => undefined);
  if (!bytes) return {};
  try {
    return parseCriuStats(bytes);
  } catch {
    return {};
  }
}

export function parseCriuStats(bytes: Buffer): CriuStats {
  if (bytes.length < 12 || bytes.readUInt32LE(0) !== IMG_SERVICE_MAGIC || bytes.readUInt32LE(4) !== STATS_MAGIC) return {};
  const length = bytes.readUInt32LE(8);
  const entry = bytes.subarray(12, 12 + length);
  const out: CriuStats = {};
  for (const [field, value] of fields(entry)) {
    if (!(value instanceof Buffer)) continue;
    const table = field === 1 ? DUMP_FIELDS : field === 2 ? RESTORE_FIELDS : undefined;
    if (!table) continue;
    for (const [inner, n] of fields(value)) {
      const spec = table[inner];
      if (spec && typeof n === 'number') out[spec[0]] = n * spec[1];
    }
  }
  return out;
}

/** The fields of a message: varints as numbers, length-delimited ones as Buffers; others skipped. */
function* fields(msg: Buffer): Generator<[number, number | Buffer]> {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = msg[at++];
      if (byte === undefined) throw new RangeError('truncated varint');
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };
  while (at < msg.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield [field, varint()];
    else if (wire === 2) {
      const n = varint();
      yield [field, msg.subarray(at, at + n)];
      at += n;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new RangeError(`wire type ${wire}`);
  }
}
