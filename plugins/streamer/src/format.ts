/**
 * The layout of a streamed checkpoint, beside checkpoint.json in the checkpoint folder:
 *
 *   img-0.lz4 ... img-(N-1).lz4   shards: chunks of CRIU's images, lz4-compressed, written in parallel
 *   img-index.json                which chunks make each image, where they are, and their sha256
 *
 * A chunk is a 16-byte header (magic, image number, raw length, stored length; little
 * endian) and an lz4 block (the raw length, 4 bytes little endian, then the block: lz4-napi's
 * `compress` layout, written by liblz4 in native/lz4block.c). Every
 * byte of a shard belongs to exactly one chunk the index lists. Trust comes from
 * checkpoint.json, which has the sha256 of the index (checked before CRIU starts) and of
 * every shard (for copies and downloads). From format 2 on the index has the sha256 of
 * every chunk's body (its header is the index's own figures): a restore checks each chunk
 * as it serves it, before CRIU gets a byte of it, instead of hashing the shards first.
 * Format 1 had a crc32 per chunk instead: such a checkpoint's shards are hashed whole
 * before CRIU starts (checkpoint.json says which, `chunkDigests`), as they always were.
 * Images are read back by position, not in the order they were written: CRIU restores
 * inventory.img first, which it dumps last.
 */

export const INDEX_FILE = 'img-index.json';
/** The format this streamer writes. */
export const INDEX_FORMAT = 2;
/** The formats it reads: 1 (crc32 per chunk, shards hashed whole before a restore) and 2. */
export const INDEX_FORMATS_READ: readonly number[] = [1, 2];
export const CHUNK_MAGIC = 0x31435343; // "CSC1"
export const CHUNK_HEADER = 16;
/** Raw bytes per chunk: big enough for lz4 to run at full speed, small enough to keep memory low. */
export const CHUNK_SIZE = 1 << 20;

export const shardName = (i: number): string => `img-${i}.lz4`;

/** One chunk: where it is and what it holds. */
export interface ChunkEntry {
  /** Shard number. */
  s: number;
  /** Offset of the chunk's header in the shard. */
  o: number;
  /** Stored bytes after the header. */
  n: number;
  /** Raw bytes it decompresses to. */
  r: number;
  /** sha256 of the stored bytes after the header, hex (format 2). */
  h?: string;
  /** crc32 of the stored bytes after the header (format 1). */
  c?: number;
}

export interface ImageEntry {
  name: string;
  size: number;
  chunks: ChunkEntry[];
}

export interface StreamIndex {
  format: number;
  streams: number;
  compression: 'lz4';
  chunkSize: number;
  images: ImageEntry[];
  /** Size of each shard, by shard number. */
  shards: number[];
}

export function chunkHeader(image: number, raw: number, stored: number): Buffer {
  const h = Buffer.alloc(CHUNK_HEADER);
  h.writeUInt32LE(CHUNK_MAGIC, 0);
  h.writeUInt32LE(image, 4);
  h.writeUInt32LE(raw, 8);
  h.writeUInt32LE(stored, 12);
  return h;
}

/** What is wrong with a chunk header read at `chunk`'s place, or undefined when it matches. */
export function headerMismatch(header: Buffer, image: number, chunk: ChunkEntry): string | undefined {
  if (header.length < CHUNK_HEADER) return `only ${header.length} of ${CHUNK_HEADER} header bytes`;
  if (header.readUInt32LE(0) !== CHUNK_MAGIC) return `no chunk header (found ${header.subarray(0, 4).toString('hex')})`;
  const found = [header.readUInt32LE(4), header.readUInt32LE(8), header.readUInt32LE(12)];
  const want = [image, chunk.r, chunk.n];
  if (found.some((v, i) => v !== want[i]))
    return `header says image ${found[0]}, ${found[1]} raw / ${found[2]} stored bytes; the index says ${want.join(', ')}`;
  return undefined;
}

/**
 * Checks that `text` is an index this streamer reads, that it agrees with the
 * checkpoint's stream count, and that the chunks tile every shard exactly. Returns
 * what is wrong, or the index.
 */
export function parseIndex(text: string, expectedStreams: number): StreamIndex | string {
  let index: StreamIndex;
  try {
    index = JSON.parse(text) as StreamIndex;
  } catch (err) {
    return `${INDEX_FILE} is not valid JSON: ${(err as Error).message}`;
  }
  return indexProblem(index, expectedStreams) ?? index;
}

/** What is wrong with an index (its format, its stream count, chunks that do not tile every shard), or undefined. */
export function indexProblem(index: StreamIndex, expectedStreams: number): string | undefined {
  if (!INDEX_FORMATS_READ.includes(index?.format))
    return `${INDEX_FILE} has format ${index?.format}, this streamer reads formats ${INDEX_FORMATS_READ.join(' and ')}`;
  if (index.compression !== 'lz4') return `${INDEX_FILE} says compression ${index.compression}, this streamer reads lz4`;
  if (index.streams !== expectedStreams || index.shards?.length !== expectedStreams) {
    return `${INDEX_FILE} describes ${index.streams} streams (${index.shards?.length} shards), checkpoint.json says ${expectedStreams}`;
  }
  for (const image of index.images) {
    const raw = image.chunks.reduce((sum, c) => sum + c.r, 0);
    if (raw !== image.size) return `${INDEX_FILE}: the chunks of ${image.name} hold ${raw} bytes, expected ${image.size}`;
    if (image.chunks.some((c) => !(c.s >= 0 && c.s < index.streams)))
      return `${INDEX_FILE}: a chunk of ${image.name} names a shard that does not exist`;
    if (image.chunks.some((c) => !hasDigest(c, index.format)))
      return `${INDEX_FILE}: a chunk of ${image.name} has no ${index.format === 1 ? 'crc32' : 'sha256'}`;
  }
  const byShard = chunksByShard(index);
  for (const [s, chunks] of byShard.entries()) {
    let at = 0;
    for (const c of chunks) {
      if (c.o !== at) return `${INDEX_FILE}: ${shardName(s)} has a gap or an overlap at byte ${at}`;
      at += CHUNK_HEADER + c.n;
    }
    if (at !== index.shards[s]) return `${INDEX_FILE}: the chunks of ${shardName(s)} cover ${at} bytes, the shard has ${index.shards[s]}`;
  }
  return undefined;
}

/** The chunks of every image, sorted per shard by offset: the order a shard was written. */
export function chunksByShard(index: StreamIndex): ChunkEntry[][] {
  const out: ChunkEntry[][] = index.shards.map(() => []);
  for (const image of index.images) for (const c of image.chunks) out[c.s]?.push(c);
  for (const list of out) list.sort((a, b) => a.o - b.o);
  return out;
}

/** Whether `c` carries the digest its index format promises. */
function hasDigest(c: ChunkEntry, format: number): boolean {
  return format === 1 ? Number.isInteger(c.c) : typeof c.h === 'string' && /^[0-9a-f]{64}$/.test(c.h);
}
