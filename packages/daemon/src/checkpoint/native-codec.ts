/**
 * The daemon's LZ4 codec: the SDK's native codec (liblz4, shared with the streamer's
 * shards: @cedana/plugin-sdk/native), built on first use into build/ of this package
 * and loaded once. A dump with lz4 asks for it before CRIU starts (lz4Ready), so a
 * machine without a C compiler or liblz4's headers refuses the dump with the job untouched.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CedanaError } from '@cedana/core';
import { AddonBuildError, buildAddon, CODEC_LIBRARIES, CODEC_SOURCES, type Lz4Codec, loadAddon } from '@cedana/plugin-sdk/native';

const CODEC_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'codec.node');

let loaded: Lz4Codec | undefined;
let building: Promise<Lz4Codec> | undefined;

/** Builds (if needed) and loads the codec; CEDANA_ERR_CODEC_UNAVAILABLE when it cannot. */
export function lz4Ready(): Promise<Lz4Codec> {
  building ??= buildAddon({ output: CODEC_PATH, sources: CODEC_SOURCES, libraries: CODEC_LIBRARIES }).then(
    (path) => {
      loaded = loadAddon<Lz4Codec>(path);
      return loaded;
    },
    (err: unknown) => {
      building = undefined; // a later call tries again (the packages may be installed by then)
      const why = err instanceof AddonBuildError ? err.why : (err as Error).message;
      throw new CedanaError('CEDANA_ERR_CODEC_UNAVAILABLE', `the lz4 codec cannot be built or loaded: ${why}`, { cause: err });
    },
  );
  return building;
}

/** The codec, once lz4Ready resolved; a stream stage that needs it awaits lz4Ready first. */
export function lz4Loaded(): Lz4Codec | undefined {
  return loaded;
}
