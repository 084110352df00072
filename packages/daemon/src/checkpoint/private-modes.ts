/**
 * Checkpoints hold a process's memory (its secrets too), so only root may read them:
 * folders 0700, files 0600. CRIU and the streamer create their files with their own
 * modes (CRIU's images follow the daemon's umask); `makePrivate` sets the modes of
 * everything under a checkpoint folder once they are done, and the folder itself is
 * made 0700 before CRIU starts, so nothing in it is reachable by others meanwhile.
 */
import { chmod, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** chmod 0700 `dir` and every folder under it, 0600 every regular file (links and sockets are left). */
export async function makePrivate(dir: string): Promise<void> {
  await chmod(dir, PRIVATE_DIR_MODE);
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    if (e.isDirectory()) await chmod(path, PRIVATE_DIR_MODE);
    else if (e.isFile() && ((await lstat(path)).mode & 0o777) !== PRIVATE_FILE_MODE) await chmod(path, PRIVATE_FILE_MODE);
  }
}
