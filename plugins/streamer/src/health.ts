/**
 * The `streamer` health check of `cedana daemon check`: can the native helper be built
 * (or is it there), so that `--streams N` works; and will a streamer die with the daemon.
 */
import type { HealthCheck, HealthResult } from '@cedana/plugin-sdk';
import { BUILD_NEEDS, ensureAddon } from './build-addon.js';
import { loadAddon } from './native.js';
import { setprivPath } from './parent-death.js';

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
  const setpriv = setprivPath();
  if (setpriv) result.data.setpriv = setpriv;
  else {
    result.warnings.push({
      message: 'no setpriv on PATH: a streamer would outlive a daemon killed mid-dump, and keep that job frozen',
      fix: 'install util-linux (it has setpriv)',
    });
  }
  return result;
};
