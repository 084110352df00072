/**
 * Builds the native helper (native/*.c and the SDK's lz4block.c) with the SDK's
 * buildAddon (the machine's C compiler, the running Node's headers, liblz4) the first time
 * it is needed, into build/ of this package; a changed source is rebuilt. Runs in the
 * daemon (middleware, inspect, health check), never in the streamer.
 */
import { CedanaError } from '@cedana/plugin-sdk';
import { AddonBuildError, BUILD_NEEDS, buildAddon } from '@cedana/plugin-sdk/native';
import { ADDON_LIBRARIES, ADDON_PATH, ADDON_SOURCES } from './native.js';

/** What to install when the build fails, for `daemon check` and the error's hint. */
export { BUILD_NEEDS };

/** The helper's path, built first if missing or older than a source. */
export async function ensureAddon(cc = process.env.CC || 'cc'): Promise<string> {
  try {
    return await buildAddon({ output: ADDON_PATH, sources: ADDON_SOURCES, libraries: ADDON_LIBRARIES, cc });
  } catch (err) {
    if (!(err instanceof AddonBuildError)) throw err;
    throw new CedanaError(
      'CEDANA_ERR_STREAMER_UNAVAILABLE',
      `cannot build the streamer's native helper from ${ADDON_SOURCES.join(' ')}: ${err.why}`,
      { hint: `install ${BUILD_NEEDS}, or dump with --streams 0` },
    );
  }
}
