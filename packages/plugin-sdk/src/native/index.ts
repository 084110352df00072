/**
 * @cedana/plugin-sdk/native: the native LZ4 codec that the daemon's archives and the
 * streamer's shards share (native/lz4block.c, native/lz4frame.c: liblz4, the reference C
 * library; lz4-napi's Rust port compresses checkpoint pages ~3x slower and allocates its
 * outputs in a pool that RSS does not give back), the native zstd codec of the daemon's
 * zstd archives (native/zstdframe.c: libzstd's streaming API, an addon of its own so that a
 * machine without libzstd still has lz4), and the build of an addon from C
 * sources with the machine's C compiler against the running Node's own headers, the
 * first time it is needed (N-API's ABI is stable: one build serves every Node that can
 * load it; a changed source is rebuilt). Light on purpose (Node built-ins only): the
 * streamer's threads import it.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** lz4 blocks, in lz4-napi's layout (the raw length, 4 bytes little endian, then the block): lz4block.c. */
export interface Lz4Block {
  compressBound(rawLength: number): number;
  compress(src: Uint8Array, dst: Uint8Array): number;
  /** Bytes written to dst, or -1 when src is not a whole block or dst is too small. */
  decompress(src: Uint8Array, dst: Uint8Array): number;
}

declare const lz4Context: unique symbol;
/** One liblz4 frame context (freed when collected). */
export type Lz4Context = { readonly [lz4Context]: 'encoder' | 'decoder' };

/** Streaming LZ4 frames, as the `lz4` CLI reads and writes them: lz4frame.c. */
export interface Lz4Frame {
  /** blockSizeId: 4 (64 KiB) to 7 (4 MiB); level 0-2 is lz4's fast mode (`lz4 -1`). */
  encoderCreate(level: number, blockSizeId: number, contentChecksum: boolean): Lz4Context;
  /** Room encoderUpdate (of `srcLength` bytes) or encoderEnd needs in dst. */
  encoderBound(encoder: Lz4Context, srcLength: number): number;
  encoderBegin(encoder: Lz4Context, dst: Uint8Array): number;
  encoderUpdate(encoder: Lz4Context, src: Uint8Array, dst: Uint8Array): number;
  encoderEnd(encoder: Lz4Context, dst: Uint8Array): number;
  decoderCreate(): Lz4Context;
  /** [bytes of src consumed, bytes written to dst, hint: 0 once a frame ended]; throws (code 'LZ4F') on damaged data. */
  decode(decoder: Lz4Context, src: Uint8Array, dst: Uint8Array): [number, number, number];
}

export type Lz4Codec = Lz4Block & Lz4Frame;

declare const zstdContext: unique symbol;
/** One libzstd streaming context (freed when collected). */
export type ZstdContext = { readonly [zstdContext]: 'encoder' | 'decoder' };

/**
 * Streaming zstd frames, as the `zstd` CLI reads and writes them: zstdframe.c. Each call runs
 * on libuv's thread pool; one call at a time per context, src and dst untouched until it settles.
 */
export interface ZstdCodec {
  /** workers: libzstd's own compression threads (0: none, the call's pool thread compresses). */
  zstdEncoderCreate(level: number, workers: number, contentChecksum: boolean): ZstdContext;
  /** [src consumed, dst written, still to flush]: until src is consumed or dst is full; `end` closes the frame (0 left: closed). */
  zstdEncode(encoder: ZstdContext, src: Uint8Array, dst: Uint8Array, end: boolean): Promise<[number, number, number]>;
  zstdDecoderCreate(): ZstdContext;
  /** [src consumed, dst written, hint: 0 once a frame ended]; rejects (code 'ZSTD') on damaged data. */
  zstdDecode(decoder: ZstdContext, src: Uint8Array, dst: Uint8Array): Promise<[number, number, number]>;
}

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native');
/** lz4block.c: an addon that has its own module init calls `lz4block_init(env, exports)`. */
export const LZ4_BLOCK_SOURCE = join(nativeDir, 'lz4block.c');
/** lz4frame.c: `lz4frame_init(env, exports)`. */
export const LZ4_FRAME_SOURCE = join(nativeDir, 'lz4frame.c');
/** The codec addon on its own (codec.c's module init registers both). */
export const CODEC_SOURCES = [join(nativeDir, 'codec.c'), LZ4_BLOCK_SOURCE, LZ4_FRAME_SOURCE];
/** Libraries the codec links with (their headers must be installed to build it). */
export const CODEC_LIBRARIES = ['lz4'];
/** What to install when a build fails, for health checks and hints. */
export const BUILD_NEEDS = 'a C compiler and the liblz4 headers (Debian: apt-get install gcc libc6-dev liblz4-dev)';
/** The zstd codec addon (zstd.c's module init registers zstdframe.c). */
export const ZSTD_CODEC_SOURCES = [join(nativeDir, 'zstd.c'), join(nativeDir, 'zstdframe.c')];
export const ZSTD_CODEC_LIBRARIES = ['zstd'];

/** Receiving CRIU's image pipes over its --stream socket (SCM_RIGHTS): fdpass.c. */
export interface FdPass {
  /** A unix socket bound at `path`, listening. */
  listen(path: string): number;
  /** Blocks: the next connection. */
  accept(fd: number): number;
  /** Blocks: the descriptor sent with the next message, or -1 at the peer's end. */
  recvFd(fd: number): number;
  /** Wakes a thread blocked in accept or read on `fd`. */
  shutdown(fd: number): void;
  /** F_SETPIPE_SZ: the pipe's new size, or -1 when refused. */
  setPipeSize(fd: number, bytes: number): number;
}
/** fdpass.c: `fdpass_init(env, exports)`, for an addon that has its own module init. */
export const FDPASS_SOURCE = join(nativeDir, 'fdpass.c');

declare const xxh64State: unique symbol;
/** One streaming XXH64 (freed when collected). */
export type Xxh64State = { readonly [xxh64State]: 'xxh64' };

/** XXH64, streaming: xxh64.c. */
export interface Xxh64 {
  xxh64Create(): Xxh64State;
  xxh64Update(state: Xxh64State, bytes: Uint8Array): void;
  /** 16 hex digits of what was added since the last digest; the state starts again. */
  xxh64Digest(state: Xxh64State): string;
}
/** xxh64.c: `xxh64_init(env, exports)`. */
export const XXH64_SOURCE = join(nativeDir, 'xxh64.c');
/** The daemon's helper (daemon-helper.c's module init: fdpass.c and xxh64.c), no library needed. */
export const DAEMON_HELPER_SOURCES = [join(nativeDir, 'daemon-helper.c'), FDPASS_SOURCE, XXH64_SOURCE];
export const ZSTD_BUILD_NEEDS = 'a C compiler and the libzstd headers (Debian: apt-get install gcc libc6-dev libzstd-dev)';

/** Why an addon could not be built (no compiler, no headers, a compile error), in `why`. */
export class AddonBuildError extends Error {
  constructor(
    readonly why: string,
    readonly sources: string[],
  ) {
    super(`cannot build a native addon from ${sources.join(' ')}: ${why}`);
  }
}

export interface AddonBuild {
  /** The .node file to make. */
  output: string;
  sources: string[];
  libraries: string[];
  /** The C compiler (default: $CC or cc). */
  cc?: string | undefined;
}

/** The sources and the headers beside them (what `#include "x.h"` reads): a change to any rebuilds. */
const inputsOf = (sources: string[]): string[] => {
  const dirs = [...new Set(sources.map((src) => dirname(src)))];
  return [...sources, ...dirs.flatMap((dir) => readdirSync(dir).flatMap((f) => (f.endsWith('.h') ? [join(dir, f)] : [])))];
};

const isCurrent = ({ output, sources }: AddonBuild): boolean =>
  existsSync(output) && inputsOf(sources).every((src) => statSync(output).mtimeMs >= statSync(src).mtimeMs);

/** The addon's path, built first if missing or older than a source or a header beside one; throws AddonBuildError. */
export async function buildAddon(build: AddonBuild): Promise<string> {
  const { output, sources, libraries } = build;
  if (isCurrent(build)) return output;
  const cc = build.cc || process.env.CC || 'cc';
  const include = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (!existsSync(join(include, 'node_api.h'))) {
    throw new AddonBuildError(
      `Node's headers are not in ${include} (install the Node.js package that ships include/node beside bin/node)`,
      sources,
    );
  }
  await mkdir(dirname(output), { recursive: true });
  // Built beside and renamed: two processes building at once each rename a whole file.
  const tmp = `${output}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const libs = libraries.map((l) => `-l${l}`);
    await promisify(execFile)(cc, ['-O2', '-shared', '-fPIC', '-Wall', `-I${include}`, '-o', tmp, ...sources, ...libs]);
    await rename(tmp, output);
  } catch (err) {
    await rm(tmp, { force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new AddonBuildError(e.code === 'ENOENT' ? `no C compiler "${cc}" on PATH` : (e.stderr || e.message).trim(), sources);
  }
  return output;
}

/** Loads a built addon (in a worker thread too: each thread loads it once). */
export function loadAddon<T>(path: string): T {
  return createRequire(import.meta.url)(path) as T;
}

export { type CriuStreamEvent, converse, replyFrame, requestName, shutdownAll } from './criu-stream.js';
