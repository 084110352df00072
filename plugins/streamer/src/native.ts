/**
 * The native helper (native/fdpass.c), loaded like any addon once build-addon.ts built
 * it. This module is imported by the streamer process and its threads: it must stay
 * light (no SDK: importing it costs ~0.1 s per thread). Why native at all: see fdpass.c.
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

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ADDON_SOURCE = join(packageDir, 'native', 'fdpass.c');
export const ADDON_PATH = join(packageDir, 'build', 'fdpass.node');

/** Loads the helper built by ensureAddon (in a worker thread too: each thread loads it once). */
export function loadAddon(path = ADDON_PATH): FdPass {
  return createRequire(import.meta.url)(path) as FdPass;
}
