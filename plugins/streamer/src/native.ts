/**
 * The native helper (native/fdpass.c and native/lz4block.c, one addon), loaded like any
 * addon once build-addon.ts built it. This module is imported by the streamer process and
 * its threads: it must stay light (no SDK: importing it costs ~0.1 s per thread). Why
 * native at all: see the two C files.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FdPass {
  listen(path: string): number;
  accept(fd: number): number;
  recvFd(fd: number): number;
  shutdown(fd: number): void;
  setPipeSize(fd: number, bytes: number): number;
}

/** lz4 blocks with liblz4, in lz4-napi's layout (the raw length, then the block): lz4block.c. */
export interface Lz4Block {
  compressBound(rawLength: number): number;
  compress(src: Uint8Array, dst: Uint8Array): number;
  /** Bytes written to dst, or -1 when src is not a whole block or dst is too small. */
  decompress(src: Uint8Array, dst: Uint8Array): number;
}

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
export const ADDON_SOURCES = ['fdpass.c', 'lz4block.c', 'pipeio.c'].map((name) => join(packageDir, 'native', name));
/** Libraries the helper links with (their headers must be installed to build it). */
export const ADDON_LIBRARIES = ['lz4'];
export const ADDON_PATH = join(packageDir, 'build', 'streamer.node');

/** Loads the helper built by ensureAddon (in a worker thread too: each thread loads it once). */
export function loadAddon(path = ADDON_PATH): NativeHelper {
  return createRequire(import.meta.url)(path) as NativeHelper;
}
