/**
 * migrate.dir: the images a migration sends (source, as a checkpoint named migrate-*) or
 * receives (target, in in-* folders) while it runs. A tmpfs by default, so a migration writes
 * no checkpoint to disk; made 0700 like the checkpoint folder.
 */
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config, Logger } from '@cedana/core';

export const INCOMING_PREFIX = 'in-';

export async function migrateDir(config: Config): Promise<string> {
  const dir = config['migrate.dir'];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return dir;
}

/** A fresh private folder for one incoming migration. */
export async function incomingDir(config: Config): Promise<string> {
  return mkdtemp(join(await migrateDir(config), INCOMING_PREFIX));
}

/**
 * On start: what a killed daemon was receiving is removed (it made no job of it). The source's
 * staged checkpoints are left: they are checkpoints in the store, a failed migration's way back.
 */
export async function removeIncomingLeftovers(config: Config, log: Logger): Promise<void> {
  const dir = config['migrate.dir'];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(INCOMING_PREFIX))) {
    await rm(join(dir, name), { recursive: true, force: true });
    log.info({ dir: join(dir, name) }, 'removed the images of a migration this daemon was receiving when it stopped');
  }
}
