/**
 * What dump and restore adapters report about themselves: progress of packing and
 * unpacking (ctx.progress, phase 'pack' / 'unpack') and the figures of --print-stats
 * (ctx.stats): CRIU's own from its stats images, and the daemon's timings and sizes.
 */
import type { CheckpointManifest, Measured } from '@cedana/core';
import { readCriuStats } from '../checkpoint/criu-stats.js';
import type { OnProgress } from '../checkpoint/progress.js';

/** ctx.progress for one phase, as packCheckpoint/unpackCheckpoint call it; undefined when no one watches. */
export function phaseProgress(ctx: Measured, phase: string): OnProgress | undefined {
  const progress = ctx.progress;
  return progress && ((done, total) => progress(done, total, phase));
}

/** Runs `fn` and returns how long it took, in ns. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started);
}

/** Adds CRIU's figures from `dir`'s stats image to ctx.stats. */
export async function addCriuStats(ctx: Measured, dir: string, kind: 'dump' | 'restore'): Promise<void> {
  if (ctx.stats) Object.assign(ctx.stats, await readCriuStats(dir, kind));
}

/** The sum of the sizes checkpoint.json lists. */
export function manifestBytes(manifest: CheckpointManifest): number {
  return Object.values(manifest.files).reduce((sum, f) => sum + f.size, 0);
}
