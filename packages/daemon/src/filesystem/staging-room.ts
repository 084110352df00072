/**
 * Room for CRIU's images in storage.staging_dir, checked before anything is done: before
 * CRIU touches the job (a dump to remote storage whose images are staged: every form but
 * --streams N), and before anything is downloaded (a restore from it, whose images are all
 * written there: checkpoint.json lists their sizes). The default staging folder is a tmpfs,
 * whose room is memory, and can be far smaller than a job (a container's /dev/shm is
 * 64 MiB by default): refused here, the job is untouched, where CRIU filling the folder
 * would have frozen the job for nothing (or a restore would have downloaded for nothing).
 *
 * A dump's bound is the root process's anonymous memory, which its page images hold at
 * least: a lower bound, so a dump that fits is never refused (a tree's processes may share
 * copy-on-write pages, which their sum would count twice). A tree that needs more than
 * the bound still fails on CRIU's ENOSPC, with the job left running.
 */
import { statfs } from 'node:fs/promises';
import { CedanaError } from '@cedana/core';
import { anonymousMemory } from './dump-progress.js';

/** Refuses a dump of `pid` whose images cannot fit in `dir`. */
export async function checkStagingRoom(dir: string, pid: number, hint: string): Promise<void> {
  if (pid <= 0) return;
  const need = await anonymousMemory(pid);
  await requireRoom(dir, need, {
    needs: "the job's memory alone is",
    outcome: 'nothing was dumped and the job was left running',
    hint,
  });
}

/** Refuses a restore whose images (`bytes`, checkpoint.json's sizes) cannot fit in `dir`. */
export async function checkRestoreRoom(dir: string, bytes: number, hint: string): Promise<void> {
  await requireRoom(dir, bytes, { needs: "the checkpoint's images are", outcome: 'nothing was downloaded or started', hint });
}

async function requireRoom(dir: string, need: number, say: { needs: string; outcome: string; hint: string }): Promise<void> {
  const s = await statfs(dir).catch(() => undefined);
  if (!s || need === 0) return;
  const free = s.bavail * s.bsize;
  if (free >= need) return;
  const mib = (n: number) => `${Math.round(n / (1 << 20))} MiB`;
  throw new CedanaError(
    'CEDANA_ERR_NO_SPACE',
    `no room for the images in ${dir}: it has ${mib(free)} free, ${say.needs} ${mib(need)}; ${say.outcome}`,
    { hint: say.hint },
  );
}
