/**
 * Processes cedana must never checkpoint or adopt: PID 1, the daemon itself, and the
 * processes the daemon runs under. CRIU freezes the whole tree it dumps, so a tree that
 * holds the daemon would freeze the daemon in the middle of its own dump (and PID 1's
 * tree is the whole machine).
 */
import { CedanaError, type DumpAdapter, parentPid } from '@cedana/core';

/** Why `pid` is protected, or undefined when it may be dumped. */
export async function protectedBecause(pid: number): Promise<string | undefined> {
  if (pid === 1) return 'it is PID 1 (init: its tree is the whole machine)';
  if (pid === process.pid) return 'it is the cedana daemon itself';
  // The daemon's ancestors, up to PID 1: dumping one dumps the daemon with it.
  const seen = new Set<number>();
  for (let p = await parentPid(process.pid); p !== undefined && p > 1 && !seen.has(p); p = await parentPid(p)) {
    if (p === pid) return `the cedana daemon (PID ${process.pid}) runs under it, so its tree holds the daemon`;
    seen.add(p);
  }
  return undefined;
}

/** Throws CEDANA_ERR_PROTECTED_PROCESS when `pid` is protected; `what` says what was asked ("dump", "manage"). */
export async function refuseProtectedPid(pid: number, what: string): Promise<void> {
  const why = await protectedBecause(pid);
  if (why) throw new CedanaError('CEDANA_ERR_PROTECTED_PROCESS', `refusing to ${what} PID ${pid}: ${why}`);
}

/**
 * A child of the daemon that is no job is one of its helpers (a restore shim holding a
 * restored job, the streamer, CRIU): `dump process PID` of one is refused. Jobs the daemon
 * started are its children too, and may be dumped.
 */
export async function refuseDaemonHelper(pid: number, jobs: { byPid(pid: number): Promise<unknown> }): Promise<void> {
  if ((await parentPid(pid)) !== process.pid) return;
  if (
    await jobs.byPid(pid).then(
      () => true,
      () => false,
    )
  )
    return; // a running job's own PID
  throw new CedanaError(
    'CEDANA_ERR_PROTECTED_PROCESS',
    `refusing to dump PID ${pid}: it is a helper process of the cedana daemon (its child, but no job)`,
    { hint: 'dump the job it serves instead: `cedana ps` lists the jobs and their PIDs' },
  );
}

/** By now ctx.pid names the process whose tree CRIU is about to freeze. */
export const refuseProtectedPidForDump: DumpAdapter = (next) =>
  async function refuseProtectedPidForDump(ctx, req, res) {
    await refuseProtectedPid(ctx.pid, 'dump');
    return next(ctx, req, res);
  };
