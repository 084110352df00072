/**
 * Progress of the CRIU step of a dump (phase 'dump'): the bytes CRIU has written into
 * the images folder so far, out of an estimate of what it will write, the anonymous
 * memory of the process tree (smaps_rollup), which is what page images mostly hold.
 * Polled every 250 ms while CRIU runs, only when a client watches (ctx.progress) and
 * CRIU writes into the folder (not for streamed dumps, whose plugin reports 'stream').
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type DumpContext, processTree } from '@cedana/core';

const POLL_MS = 250;

/** Starts reporting; returns the function that stops it. */
export function watchDumpProgress(ctx: DumpContext, dir: string): () => void {
  const progress = ctx.progress;
  if (!progress) return () => {};
  let total: number | undefined;
  let busy = false;
  const tick = async () => {
    if (busy || ctx.pid <= 0) return;
    busy = true;
    try {
      total ??= (await treeMemory(ctx.pid)) || undefined;
      const done = await folderBytes(dir);
      if (total !== undefined) progress(Math.min(done, total), total, 'dump');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick().catch(() => {}), POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Bytes of the files directly in `dir` (CRIU writes no subfolders). */
export async function folderBytes(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const sizes = await Promise.all(
    names.map((name) =>
      stat(join(dir, name)).then(
        (s) => (s.isFile() ? s.size : 0),
        () => 0,
      ),
    ),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/** Anonymous memory of `pid` and its descendants, in bytes (0 when unreadable). */
export async function treeMemory(pid: number): Promise<number> {
  const tree = await processTree(pid);
  const sizes = await Promise.all(tree.map(anonymousMemory));
  return sizes.reduce((a, b) => a + b, 0);
}

/** Anonymous memory of `pid` alone, in bytes (0 when unreadable). */
export async function anonymousMemory(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Anonymous:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
}
