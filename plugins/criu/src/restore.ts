/**
 * The final restore handler: `criu restore` of ctx.imagesDir through the restore shim
 * (restore-shim.ts), with the checks and the bounded retry around it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CedanaError, type RestoreContext, type RestoreReq, type RestoreResp, type Started, Steps } from '@cedana/plugin-sdk';
import { criuFailure } from './criu-failure.js';
import { readLogLines } from './criu-log.js';
import { type CriuInstall, discoverCriu } from './discover.js';
import { criuFlags } from './flags.js';
import { openResumeGate } from './restore-gate.js';
import { inheritFdArgs, type PipeSpec, pipePlan } from './restore-io.js';
import { keepRestoreOutputs, type LazyPages, startLazyPages, stopLazyPages, superviseLazyPages } from './restore-lazy.js';
import { checkpointPid, commOf, pidHolder } from './restore-pid.js';
import { runRestoreShim } from './restore-shim.js';

/** CRIU's log, written inside the images folder. */
export const RESTORE_LOG = 'restore.log';
/** What criu restore writes beside its log: copied into the images folder after a lazy restore. */
const RESTORE_OUTPUTS = [RESTORE_LOG, 'stats-restore'] as const;

/**
 * How long a restore keeps retrying while the kernel still holds the PID. Right after
 * a dump the PID stays unusable for about 2 s, even once the dumped process was reaped
 * (`Can't fork for PID: File exists`).
 */
export const PID_RETRY = { totalMs: 5000, everyMs: 250 };

/**
 * Restores the checkpoint in `ctx.imagesDir` and returns the restored process: its PID
 * (also set in `res.pid`), a promise of its exit status, and, for an attachable job
 * (`ctx.io`), its reconnected pipes. The restored process is a child of a small shim,
 * not of the daemon, and keeps running if the daemon dies.
 *
 * With `req.lazy` the process starts before its memory is resident: `criu lazy-pages`
 * (restore-lazy.ts) serves the pages, and is supervised after the restore returns.
 *
 * With `ctx.resumeGate` (the daemon still verifies the page files), CRIU holds the restored
 * tasks at post-restore until the verification is done (restore-gate.ts), and kills them
 * before they run when it fails; the verification's error is thrown then.
 *
 * Abort: `ctx.signal` is checked before each attempt; a running criu is never
 * interrupted. The images folder is never changed except for restore.log and stats-restore.
 *
 * @throws CedanaError CEDANA_ERR_PID_TAKEN (a live process has the checkpoint's PID, or
 *   the PID stayed busy past PID_RETRY), CEDANA_ERR_CRIU_RESTORE (with restore.log's
 *   error lines), CEDANA_ERR_CRIU_NOT_FOUND, CEDANA_ERR_CRIU_TOO_OLD,
 *   CEDANA_ERR_INVALID_ARGUMENT (an io key that is not a pipe), CEDANA_ERR_CRIU_LAZY_PAGES
 *   (lazy: the lazy-pages daemon did not start)
 */
export async function criuRestore(ctx: RestoreContext, req: RestoreReq, res: RestoreResp): Promise<Started> {
  ctx.signal.throwIfAborted();
  const began = performance.now();
  const steps = new Steps();
  const pipes = pipePlan(ctx.io);
  const lazy = req.lazy === true;
  // The checks before criu are independent of each other, and of the first lazy-pages
  // daemon (whose start is most of a lazy restore's time to a running process): all at once.
  const found = discoverCriu(ctx.config);
  const firstLazy = lazy ? found.then((criu) => startLazyPages(criu.binary, ctx.imagesDir, ctx.pageChannel)) : undefined;
  const made = mkdtemp(join(tmpdir(), 'cedana-restore-'));
  const checked = checkpointPid(ctx.imagesDir, ctx.manifest).then(async (pid) => {
    // PID 1 is the init of a dumped PID namespace: it never clashes with the host's PID 1.
    const wanted = pid !== undefined && pid !== 1 ? pid : undefined;
    if (wanted !== undefined) await assertPidNotLive(wanted);
    return wanted;
  });
  const ready = await Promise.allSettled([found, checked, made, firstLazy] as const);
  const failure = ready.find((r) => r.status === 'rejected');
  if (failure) {
    if (ready[2].status === 'fulfilled') await rm(ready[2].value, { recursive: true, force: true });
    if (ready[3].status === 'fulfilled' && ready[3].value) await stopLazyPages(ready[3].value);
    throw failure.reason;
  }
  const [criu, wanted, work, lazyPages] = ready.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    CriuInstall,
    number | undefined,
    string,
    LazyPages | undefined,
  ];
  steps.mark(lazy ? 'checksAndLazyPages' : 'checks');

  // Held before criu starts: from here on the restored tasks run only once the images are verified.
  const verified = ctx.resumeGate?.hold();
  try {
    const attempt = { work, pid: wanted, lazy, verified, firstLazyPages: lazyPages, began, steps };
    const started = await restoreWithRetry(ctx, criu, pipes, attempt);
    res.pid = started.pid;
    ctx.log.info({ pid: started.pid, imagesDir: ctx.imagesDir, lazy: req.lazy }, 'criu restored the process');
    // Where a restore's time goes beyond criu's own (restore.log has criu's): one line per restore.
    ctx.log.debug({ ms: steps.total(), steps: steps.ms }, 'restore steps (ms)');
    if (req.lazy === true) {
      res.messages.push(
        'lazy restore: the process runs while criu lazy-pages copies its memory in; the daemon log says when the whole memory is resident',
      );
    }
    return started;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** What every attempt of one restore shares. */
interface Attempts {
  /** The restore's private work folder. */
  work: string;
  /** The checkpoint's PID, when the restore must get it back. */
  pid: number | undefined;
  lazy: boolean;
  /** RestoreContext.resumeGate's verification, when held. */
  verified: Promise<void> | undefined;
  /** Lazy: the first attempt's lazy-pages daemon, started beside the checks, */
  firstLazyPages: LazyPages | undefined;
  /** at this time (performance.now()). */
  began: number;
  steps: Steps;
}

async function restoreWithRetry(ctx: RestoreContext, criu: CriuInstall, pipes: PipeSpec[], attempts: Attempts): Promise<Started> {
  const { work, pid, lazy, verified, steps } = attempts;
  let ready = attempts.firstLazyPages;
  const pidfile = join(work, 'restore.pid');
  let damaged: { err: unknown } | undefined;
  verified?.catch((err: unknown) => {
    damaged = { err };
  });
  const args = [
    criu.binary,
    'restore',
    '-D',
    ctx.imagesDir,
    '-o',
    RESTORE_LOG,
    '-v4',
    '--restore-detached',
    '--restore-sibling',
    '--pidfile',
    pidfile,
    ...inheritFdArgs(pipes),
    // A dumped mount namespace (a job run with --pid-ns) is rebuilt on the host's root.
    ...(ctx.manifest.mountNamespace === true ? ['--root', '/'] : []),
    ...criuFlags(ctx.criu, 'restore'),
  ];
  // A lazy restore writes it in its work folder; it is copied here after each attempt.
  const logPath = join(ctx.imagesDir, RESTORE_LOG);
  const deadline = Date.now() + PID_RETRY.totalMs;
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal.aborted && ready) await stopLazyPages(ready);
    ctx.signal.throwIfAborted();
    // From its lazy-pages daemon's start: the log's "whole memory is resident" ms.
    const startedAt = ready ? attempts.began : performance.now();
    // Each attempt has a lazy-pages daemon of its own: one whose restore failed stops waiting and exits.
    const lazyPages: LazyPages | undefined = lazy
      ? (ready ?? (await startLazyPages(criu.binary, ctx.imagesDir, ctx.pageChannel)))
      : undefined;
    ready = undefined;
    if (lazy && attempt > 1) steps.mark('lazyPages');
    const gate = verified ? await openResumeGate(work, attempt, verified) : undefined;
    if (gate) steps.mark('gate');
    const attemptArgs = [...args, ...(lazyPages ? ['--lazy-pages', '-W', lazyPages.workDir] : []), ...(gate?.args ?? [])];
    ctx.log.debug({ args: attemptArgs, attempt, lazyPagesPid: lazyPages?.pid }, 'running criu restore');
    const outcome = await runRestoreShim({
      perl: 'perl',
      criu: attemptArgs,
      pidfile,
      pipes,
      statusFile: ctx.exitStatusFile,
      ...(gate && { env: gate.env }),
    });
    steps.mark('criu'); // the shim's start, criu restore, and the restored PID's report
    await gate?.close();
    if (lazyPages) await keepRestoreOutputs(lazyPages.workDir, ctx.imagesDir, RESTORE_OUTPUTS);
    if (gate || lazyPages) steps.mark('after');
    if (outcome.kind === 'restored' && verified) {
      // The gate let the tasks run, so this resolved; were it not so, they must not go on.
      await verified.catch((err: unknown) => {
        killQuietly(outcome.started.pid);
        throw err;
      });
    }
    if (outcome.kind === 'restored') {
      if (lazyPages) superviseLazyPages(ctx, lazyPages, outcome.started.pid, startedAt);
      return outcome.started;
    }
    const lines = await readLogLines(logPath);
    if (lazyPages) await stopLazyPages(lazyPages);
    // The gate made criu kill the restored tasks: the damaged file is the cause, not what criu logged.
    if (damaged) throw damaged.err;
    if (outcome.run.spawnError) {
      throw new CedanaError('CEDANA_ERR_CRIU_RESTORE', `cannot start the restore shim: ${outcome.run.output}`, {
        hint: "the restore runs through perl (Debian: apt-get install perl-base); make sure `perl` is on the daemon's PATH",
      });
    }

    const clash = outcome.run.exit !== 0 && lines.some(isPidClash);
    if (!clash) throw criuFailure('CEDANA_ERR_CRIU_RESTORE', `criu restore of ${ctx.imagesDir}`, outcome.run, lines, logPath);
    if (pid !== undefined) await assertPidNotLive(pid);
    if (Date.now() + PID_RETRY.everyMs > deadline) {
      const err = criuFailure('CEDANA_ERR_CRIU_RESTORE', `criu restore of ${ctx.imagesDir}`, outcome.run, lines, logPath);
      throw new CedanaError(
        'CEDANA_ERR_PID_TAKEN',
        `PID ${pid ?? '?'} of the checkpoint was still in use after ${PID_RETRY.totalMs / 1000} s of retries (${err.message})`,
        {
          details: err.details,
        },
      );
    }
    const why = `criu restore: PID ${pid ?? '?'} is still held by the kernel (normal for ~2 s after a dump); retrying every ${PID_RETRY.everyMs} ms for up to ${PID_RETRY.totalMs / 1000} s`;
    if (attempt === 1) ctx.log.info({ pid }, why);
    else ctx.log.debug({ pid, attempt }, why);
    await sleep(PID_RETRY.everyMs);
    steps.mark('pidRetry');
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** The log line of a restore that found its PID in use. */
function isPidClash(line: string): boolean {
  return /Can't fork for \d+: File exists/.test(line) || (/clone3?/.test(line) && /File exists/.test(line) && /Error/.test(line));
}

async function assertPidNotLive(pid: number): Promise<void> {
  if ((await pidHolder(pid)) !== 'live') return;
  throw new CedanaError(
    'CEDANA_ERR_PID_TAKEN',
    `the checkpoint's process had PID ${pid}, expected it free to restore into, found it used by "${await commOf(pid)}" (see /proc/${pid})`,
  );
}
