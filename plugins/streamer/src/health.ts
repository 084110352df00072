/**
 * The `streamer` health check of `cedana daemon check`: can the native helper be built
 * (or is it there), so that `--streams N` works.
 */
import type { HealthCheck, HealthResult } from '@cedana/plugin-sdk';
import { BUILD_NEEDS, ensureAddon } from './build-addon.js';
import { loadAddon } from './native.js';

export const streamerHealthCheck: HealthCheck = async function streamerHealthCheck() {
  const result: HealthResult = { name: 'streamer', data: {}, warnings: [], errors: [] };
  try {
    const path = await ensureAddon();
    loadAddon(path);
    result.data.helper = path;
  } catch (err) {
    result.errors.push({
      message: `--streams cannot work: ${(err as Error).message}`,
      fix: `install ${BUILD_NEEDS}; Node's headers come with Node.js (include/node beside bin/node)`,
    });
  }
  return result;
};
