/**
 * One `cedana plugin install|update|remove` at a time per plugins folder:
 * `<plugins dir>/.lock` holds the PID of the command that changes it. A lock whose
 * process is gone (killed half way) is taken over, and what that process left in
 * `.staging` and `.trash` is removed: it was never part of an installed plugin.
 */
import { mkdir, open, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError } from '@cedana/core';

export const STAGING_DIR = '.staging';
export const TRASH_DIR = '.trash';

export async function withPluginsLock<T>(pluginsDir: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(pluginsDir, { recursive: true });
  const lock = join(pluginsDir, '.lock');
  await acquire(lock);
  try {
    await rm(join(pluginsDir, STAGING_DIR), { recursive: true, force: true });
    await rm(join(pluginsDir, TRASH_DIR), { recursive: true, force: true });
    return await fn();
  } finally {
    await rm(join(pluginsDir, STAGING_DIR), { recursive: true, force: true }).catch(() => {});
    await unlink(lock).catch(() => {});
  }
}

async function acquire(lock: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
    if (holder > 0 && holder !== process.pid && alive(holder)) {
      throw new CedanaError('CEDANA_ERR_PLUGIN_BUSY', `another cedana plugin command (PID ${holder}) is changing ${join(lock, '..')}`);
    }
    await unlink(lock).catch(() => {}); // its holder is gone
  }
  throw new CedanaError('CEDANA_ERR_PLUGIN_BUSY', `cannot take the lock ${lock}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
