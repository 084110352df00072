/**
 * The native helper (native/streamer.c, native/pipeio.c and the SDK's fdpass.c and lz4block.c, the codec
 * the daemon's archives use too, one addon), loaded like any addon once build-addon.ts
 * built it. This module is imported by the streamer process and its threads: it must stay
 * light (not the SDK's main entry: importing it costs ~0.1 s per thread; its `native`
 * entry is Node built-ins only). Why native at all: see the C files.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FDPASS_SOURCE, type FdPass, LZ4_BLOCK_SOURCE, type Lz4Block, loadAddon as loadNative } from '@cedana/plugin-sdk/native';

export type { FdPass, Lz4Block };

/** A chunk through one of CRIU's pipes in pieces, on libuv's pool: pipeio.c. */
export interface PipeIo {
  /** Reads until `buf` is full or the pipe's end; the bytes read. */
  readFull(fd: number, buf: Uint8Array, piece: number): Promise<number>;
  /** Writes all of `buf`; rejects with code EPIPE when the reader is gone. */
  writeAll(fd: number, buf: Uint8Array, piece: number): Promise<number>;
  /** vmsplice(2)s all of `buf` (no copy): `buf` must not change until the reader has read it. */
  spliceAll(fd: number, buf: Uint8Array, piece: number): Promise<number>;
  /** Resolves once the pipe is empty or its reader is gone. */
  drain(fd: number): Promise<void>;
}

export type NativeHelper = FdPass & Lz4Block & PipeIo;

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ADDON_SOURCES = [
  join(packageDir, 'native', 'streamer.c'),
  FDPASS_SOURCE,
  LZ4_BLOCK_SOURCE,
  join(packageDir, 'native', 'pipeio.c'),
];
/** Libraries the helper links with (their headers must be installed to build it). */
export const ADDON_LIBRARIES = ['lz4'];
export const ADDON_PATH = join(packageDir, 'build', 'streamer.node');

/** Loads the helper built by ensureAddon (in a worker thread too: each thread loads it once). */
export function loadAddon(path = ADDON_PATH): NativeHelper {
  return loadNative<NativeHelper>(path);
}
