/**
 * The native helper (native/fdpass.c): built with the machine's C compiler against the
 * running Node's own headers the first time it is needed, into build/ of this package,
 * then loaded like any addon. N-API's ABI is stable, so one build serves every Node
 * that can load it; a changed source is rebuilt. Why native at all: see fdpass.c.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CedanaError } from '@cedana/plugin-sdk';

export interface FdPass {
  listen(path: string): number;
  accept(fd: number): number;
  recvFd(fd: number): number;
  shutdown(fd: number): void;
  setPipeSize(fd: number, bytes: number): number;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ADDON_SOURCE = join(packageDir, 'native', 'fdpass.c');
export const ADDON_PATH = join(packageDir, 'build', 'fdpass.node');

/** The helper's path, built first if missing or older than its source. */
export async function ensureAddon(cc = process.env.CC || 'cc'): Promise<string> {
  if (existsSync(ADDON_PATH) && statSync(ADDON_PATH).mtimeMs >= statSync(ADDON_SOURCE).mtimeMs) return ADDON_PATH;
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
  try {
    await promisify(execFile)(cc, ['-O2', '-shared', '-fPIC', '-Wall', `-I${include}`, '-o', tmp, ADDON_SOURCE]);
    await rename(tmp, ADDON_PATH);
  } catch (err) {
    await rm(tmp, { force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const why = e.code === 'ENOENT' ? `no C compiler "${cc}" on PATH` : (e.stderr || e.message).trim();
    throw new CedanaError('CEDANA_ERR_STREAMER_UNAVAILABLE', `cannot build the streamer's native helper ${ADDON_SOURCE}: ${why}`);
  }
  return ADDON_PATH;
}

/** Loads the helper built by ensureAddon (in a worker thread too: each thread loads it once). */
export function loadAddon(path = ADDON_PATH): FdPass {
  return createRequire(import.meta.url)(path) as FdPass;
}
