/**
 * How each archive compression is written and read: the file name extension and the
 * stream stages between the tar stream and the file. gzip and zlib use level 1: on
 * checkpoint data it compresses as well as level 6 (pages are either random or zero)
 * at several times the speed, and it is still ~20x slower than lz4 (see
 * /work/shared/notes/performance-baselines.md).
 */
import type { Transform } from 'node:stream';
import { createDeflate, createGunzip, createGzip, createInflate } from 'node:zlib';
import type { Compression } from '@cedana/core';
import { Lz4FrameDecoder, Lz4FrameEncoder } from './lz4-stream.js';

/** Every compression but 'none', which keeps the folder as it is. */
export type ArchiveCompression = Exclude<Compression, 'none'>;

export interface Codec {
  /** Appended to the checkpoint folder's path. */
  extension: string;
  /** Stages from the tar stream to the file (none for plain tar). */
  encoders(): Transform[];
  /** Stages from the file to the tar stream; `source` is named in errors. */
  decoders(source: string): Transform[];
}

const ZLIB_OPTIONS = { level: 1, chunkSize: 256 << 10 };

export const CODECS = {
  tar: { extension: '.tar', encoders: () => [], decoders: () => [] },
  lz4: { extension: '.tar.lz4', encoders: () => [new Lz4FrameEncoder()], decoders: (source) => [new Lz4FrameDecoder({ source })] },
  gzip: { extension: '.tar.gz', encoders: () => [createGzip(ZLIB_OPTIONS)], decoders: () => [createGunzip({ chunkSize: 256 << 10 })] },
  zlib: {
    extension: '.tar.zlib',
    encoders: () => [createDeflate(ZLIB_OPTIONS)],
    decoders: () => [createInflate({ chunkSize: 256 << 10 })],
  },
} as const satisfies Record<ArchiveCompression, Codec>;

/** Where packCheckpoint writes the archive of `dir`: next to it, `DIR.tar[.ext]`. */
export function archivePath(dir: string, compression: ArchiveCompression): string {
  return `${dir.replace(/\/+$/, '')}${CODECS[compression].extension}`;
}
