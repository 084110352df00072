/**
 * The daemon's native codecs, from the SDK's C sources (@cedana/plugin-sdk/native): LZ4
 * (liblz4, shared with the streamer's shards) and zstd (libzstd), each built on first use
 * into build/ of this package and loaded once. A dump with lz4 or zstd asks for its codec
 * before CRIU starts (codecReady), so a machine without a C compiler or the library's
 * headers refuses the dump with the job untouched.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CedanaError } from '@cedana/core';
import {
  AddonBuildError,
  BUILD_NEEDS,
  buildAddon,
  CODEC_LIBRARIES,
  CODEC_SOURCES,
  DAEMON_HELPER_SOURCES,
  type FdPass,
  type Lz4Codec,
  loadAddon,
  type Xxh64,
  ZSTD_BUILD_NEEDS,
  ZSTD_CODEC_LIBRARIES,
  ZSTD_CODEC_SOURCES,
  type ZstdCodec,
} from '@cedana/plugin-sdk/native';

const BUILD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build');

/** One addon: built and loaded at most once at a time; a failed attempt is tried again next time. */
function nativeCodec<T>(name: string, file: string, sources: string[], libraries: string[], needs: string): () => Promise<T> {
  let building: Promise<T> | undefined;
  return () => {
    building ??= buildAddon({ output: join(BUILD_DIR, file), sources, libraries }).then(
      (path) => loadAddon<T>(path),
      (err: unknown) => {
        building = undefined; // a later call tries again (the packages may be installed by then)
        const why = err instanceof AddonBuildError ? err.why : (err as Error).message;
        throw new CedanaError('CEDANA_ERR_CODEC_UNAVAILABLE', `the ${name} codec cannot be built or loaded: ${why}`, {
          cause: err,
          hint: `the ${name} codec is built on first use: install ${needs}, or dump with another --compression`,
        });
      },
    );
    return building;
  };
}

/** Builds (if needed) and loads the LZ4 codec; CEDANA_ERR_CODEC_UNAVAILABLE when it cannot. */
export const lz4Ready = nativeCodec<Lz4Codec>('lz4', 'codec.node', CODEC_SOURCES, CODEC_LIBRARIES, BUILD_NEEDS);

/** Builds (if needed) and loads the zstd codec; CEDANA_ERR_CODEC_UNAVAILABLE when it cannot. */
export const zstdReady = nativeCodec<ZstdCodec>('zstd', 'zstd.node', ZSTD_CODEC_SOURCES, ZSTD_CODEC_LIBRARIES, ZSTD_BUILD_NEEDS);

/** The daemon's helper, once built: it takes CRIU's image pipes over its --stream socket (image-serve.ts), and hashes page files (piece-digests.ts). */
export const HELPER_ADDON = join(BUILD_DIR, 'helper.node');
export type DaemonHelper = FdPass & Xxh64;

/** Builds (if needed) and loads HELPER_ADDON; CEDANA_ERR_CODEC_UNAVAILABLE when it cannot. */
export const helperReady = nativeCodec<DaemonHelper>(
  'daemon helper',
  'helper.node',
  DAEMON_HELPER_SOURCES,
  [],
  'a C compiler (Debian: apt-get install gcc libc6-dev)',
);

/** HELPER_ADDON's path once it is built, or undefined when it cannot be (a dump then records no pieces, a restore checks sha256). */
export async function helperPath(): Promise<string | undefined> {
  return helperReady().then(
    () => HELPER_ADDON,
    () => undefined,
  );
}

/** The codec an archive compression needs before CRIU starts, if any. */
export async function codecReady(compression: string): Promise<void> {
  if (compression === 'lz4') await lz4Ready();
  else if (compression === 'zstd') await zstdReady();
}
