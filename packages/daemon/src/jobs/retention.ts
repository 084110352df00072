/**
 * Retention (`checkpoint.keep`): after a dump of a job, that job's checkpoints older
 * than its last `keep` are deleted, files and records. Never the one just made, never
 * one a restore is reading right now (it is left for the next dump to take). A
 * checkpoint whose files cannot be removed keeps its record, so it stays visible.
 */
import { resolve } from 'node:path';
import type { Logger } from '@cedana/core';
import type { Checkpoint } from '@cedana/core/proto';
import type { StorageEnv } from '../storage/remote-storage.js';
import { removeCheckpoint } from '../storage/remove-checkpoint.js';

export interface RetentionStore {
  /** Oldest first. */
  listCheckpoints(jid: string): Promise<Checkpoint[]>;
  deleteCheckpoint(id: string): Promise<void>;
}

/** Checkpoint paths that restores are reading: counted, since two restores may read one. */
export class CheckpointReaders {
  readonly #reading = new Map<string, number>();

  /** Runs `fn` with `path` marked as being read. */
  async reading<T>(path: string, fn: () => Promise<T>): Promise<T> {
    if (!path) return fn();
    const key = resolve(path);
    this.#reading.set(key, (this.#reading.get(key) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const left = (this.#reading.get(key) ?? 1) - 1;
      if (left === 0) this.#reading.delete(key);
      else this.#reading.set(key, left);
    }
  }

  has(path: string): boolean {
    return this.#reading.has(resolve(path));
  }
}

export interface PruneOptions {
  jid: string;
  /** How many of the job's checkpoints to keep (0: all). */
  keep: number;
  /** The checkpoint just made: never deleted. */
  made: string;
  readers: CheckpointReaders;
  log: Logger;
  /** For checkpoints in remote storage (s3://...): the storage's settings and the plugins that store them. */
  storage?: StorageEnv;
}

/** Deletes what retention allows; one message per checkpoint deleted or spared. */
export async function pruneCheckpoints(store: RetentionStore, opts: PruneOptions): Promise<string[]> {
  const { jid, keep, made, readers, log } = opts;
  if (keep <= 0) return [];
  const all = await store.listCheckpoints(jid);
  const older = all.filter((c) => c.id !== made);
  // The one just made counts as one of the `keep`.
  const excess = older.slice(0, Math.max(0, older.length - (keep - 1)));
  const messages: string[] = [];
  for (const c of excess) {
    if (readers.has(c.path)) {
      messages.push(`kept checkpoint ${c.id} beyond checkpoint.keep=${keep}: a restore is reading it`);
      continue;
    }
    try {
      await removeCheckpoint(c.path, opts.storage);
    } catch (err) {
      log.warn({ jid, id: c.id, path: c.path, err }, 'retention could not remove a checkpoint');
      messages.push(`could not delete checkpoint ${c.id} (${c.path}): ${(err as Error).message}`);
      continue;
    }
    await store.deleteCheckpoint(c.id);
    log.info({ jid, id: c.id, path: c.path, keep }, 'retention deleted a checkpoint');
    messages.push(`deleted checkpoint ${c.id} (${c.path}): checkpoint.keep=${keep}`);
  }
  return messages;
}
