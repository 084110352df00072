/**
 * The PID a restore needs: CRIU gives the restored process its original PID, so that
 * PID must be free on this machine.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processState, type RestoreContext } from '@cedana/plugin-sdk';
import { readRootPid } from './pstree-image.js';

/**
 * The checkpoint's root PID: `manifest.pid` when the daemon recorded it, else the
 * root of the images' pstree.img; undefined when neither says, or when the root is init
 * of its own PID namespace (`manifest.pidNamespace`): CRIU restores that into a new
 * namespace, and no PID of this machine is needed.
 */
export async function checkpointPid(imagesDir: string, manifest: RestoreContext['manifest']): Promise<number | undefined> {
  if (manifest.pidNamespace === true) return undefined;
  const recorded = manifest.pid;
  if (typeof recorded === 'number' && Number.isInteger(recorded) && recorded > 0) return recorded;
  return readRootPid(join(imagesDir, 'pstree.img'));
}

/**
 * Who holds `pid` now: nobody, a zombie (about to be reaped: worth waiting for), or a
 * live process or thread.
 */
export async function pidHolder(pid: number): Promise<'free' | 'zombie' | 'live'> {
  const state = await processState(pid);
  if (state === undefined) return 'free';
  return state === 'Z' || state === 'X' ? 'zombie' : 'live';
}

/** The comm of `pid`, for messages; '?' when it is gone. */
export async function commOf(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return '?';
  }
}
