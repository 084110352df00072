/**
 * How each archive compression is written and read: the file name extension and the
 * stream stages between the tar stream and the file. gzip and zlib use level 1: on
 * checkpoint data it compresses as well as level 6 (pages are either random or zero)
 * at several times the speed, and it is still ~20x slower than lz4 (see
 * /work/shared/notes/performance-baselines.md). zstd is at its default level 3 (zstd-stream.ts).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { createDeflate, createGunzip, createGzip, createInflate } from 'node:zlib';
import type { Compression } from '@cedana/core';
import { Lz4FrameDecoder, Lz4FrameEncoder } from './lz4-stream.js';
import { GZIP_HEAD, LZ4_HEAD, type StoredHead, TAR_HEAD, ZLIB_HEAD, ZlibContinuation, ZSTD_HEAD } from './stored-head.js';
import { ZstdFrameDecoder, ZstdFrameEncoder } from './zstd-stream.js';

/** Every compression but 'none', which keeps the folder as it is. */
export type ArchiveCompression = Exclude<Compression, 'none'>;

export interface Codec {
  /** Appended to the checkpoint folder's path. */
  extension: string;
  /**
   * Stages from the tar stream to the file (none for plain tar), for what follows the
   * head; `head` returns the head's plain bytes, and is called only once that stream ended.
   * An encoder done with an input chunk (holding no reference to it) passes it to `giveBack`.
   */
  encoders(head: () => Buffer, giveBack?: (chunk: Buffer) => void): Transform[];
  /** Stages from the file to the tar stream; `source` is named in errors. */
  decoders(source: string): Transform[];
  /** How the archive's first entry is stored in front of what the encoders write (see stored-head.ts). */
  head: StoredHead;
}

const ZLIB_OPTIONS = { level: 1, chunkSize: 256 << 10 };

export const CODECS = {
  tar: { extension: '.tar', encoders: () => [], decoders: () => [], head: TAR_HEAD },
  lz4: {
    extension: '.tar.lz4',
    encoders: (_head?, giveBack?) => [new Lz4FrameEncoder({ giveBack })],
    decoders: (source) => [new Lz4FrameDecoder({ source })],
    head: LZ4_HEAD,
  },
  gzip: {
    extension: '.tar.gz',
    encoders: () => [createGzip(ZLIB_OPTIONS)],
    decoders: () => [createGunzip({ chunkSize: 256 << 10 })],
    head: GZIP_HEAD,
  },
  zlib: {
    extension: '.tar.zlib',
    encoders(head) {
      const counted = byteCounter();
      return [counted.stage, createDeflate(ZLIB_OPTIONS), new ZlibContinuation(head, () => counted.bytes)];
    },
    decoders: () => [createInflate({ chunkSize: 256 << 10 })],
    head: ZLIB_HEAD,
  },
  zstd: {
    extension: '.tar.zst',
    encoders: (_head?, giveBack?) => [new ZstdFrameEncoder({ giveBack })],
    decoders: (source) => [new ZstdFrameDecoder({ source })],
    head: ZSTD_HEAD,
  },
} as const satisfies Record<ArchiveCompression, Codec>;

/** A pass-through stage and the number of bytes that went through it. */
function byteCounter(): { stage: Transform; bytes: number } {
  const counted = {
    bytes: 0,
    stage: new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        counted.bytes += chunk.length;
        callback(null, chunk);
      },
    }),
  };
  return counted;
}

/** Where packCheckpoint writes the archive of `dir`: next to it, `DIR.tar[.ext]`. */
export function archivePath(dir: string, compression: ArchiveCompression): string {
  return `${dir.replace(/\/+$/, '')}${CODECS[compression].extension}`;
}
