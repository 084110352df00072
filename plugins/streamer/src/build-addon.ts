/**
 * Builds the native helper (native/*.c) with the machine's C compiler against the
 * running Node's own headers and liblz4 the first time it is needed, into build/ of this
 * package. N-API's ABI is stable, so one build serves every Node that can load it; a
 * changed source is rebuilt. Runs in the daemon (middleware, inspect, health check),
 * never in the streamer.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CedanaError } from '@cedana/plugin-sdk';
import { ADDON_LIBRARIES, ADDON_PATH, ADDON_SOURCES } from './native.js';

/** What to install when the build fails, for `daemon check` and the error's hint. */
export const BUILD_NEEDS = 'a C compiler and the liblz4 headers (Debian: apt-get install gcc libc6-dev liblz4-dev)';

const isCurrent = (): boolean =>
  existsSync(ADDON_PATH) && ADDON_SOURCES.every((src) => statSync(ADDON_PATH).mtimeMs >= statSync(src).mtimeMs);

/** The helper's path, built first if missing or older than a source. */
export async function ensureAddon(cc = process.env.CC || 'cc'): Promise<string> {
  if (isCurrent()) return ADDON_PATH;
  const include = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (!existsSync(join(include, 'node_api.h'))) {
    throw new CedanaError(
      'CEDANA_ERR_STREAMER_UNAVAILABLE',
      `cannot build the streamer's native helper: Node's headers are not in ${include}`,
      {
        hint: 'install the Node.js package that ships its headers (include/node beside bin/node), or dump with --streams 0',
      },
    );
  }
  await mkdir(dirname(ADDON_PATH), { recursive: true });
  const tmp = `${ADDON_PATH}.${process.pid}.tmp`;
  const libs = ADDON_LIBRARIES.map((l) => `-l${l}`);
  try {
    await promisify(execFile)(cc, ['-O2', '-shared', '-fPIC', '-Wall', `-I${include}`, '-o', tmp, ...ADDON_SOURCES, ...libs]);
    await rename(tmp, ADDON_PATH);
  } catch (err) {
    await rm(tmp, { force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const why = e.code === 'ENOENT' ? `no C compiler "${cc}" on PATH` : (e.stderr || e.message).trim();
    throw new CedanaError(
      'CEDANA_ERR_STREAMER_UNAVAILABLE',
      `cannot build the streamer's native helper from ${ADDON_SOURCES.join(' ')}: ${why}`,
      {
        hint: `install ${BUILD_NEEDS}, or dump with --streams 0`,
      },
    );
  }
  return ADDON_PATH;
}
