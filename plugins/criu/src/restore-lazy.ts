/**
 * Lazy restore (`cedana restore ... --lazy`): `criu lazy-pages` serves the checkpoint's
 * private pages over userfaultfd while `criu restore --lazy-pages` starts the process
 * before its memory is resident. Both share a work folder outside the checkpoint (the
 * daemon's socket `lazy-pages.socket`, the logs, stats-restore), so the checkpoint is
 * never written to and two lazy restores of one checkpoint do not meet.
 *
 * The lazy-pages daemon runs detached (the job keeps its memory source if the cedana
 * daemon dies), fills faults first and copies every other page in the background, then
 * exits 0. If it fails before that, the restored process has holes where its memory
 * should be: it is killed rather than left running on zero pages.
 */
import { chmod, copyFile, mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PageChannel, type RestoreContext, spawnClean } from '@cedana/plugin-sdk';
import { criuFailure } from './criu-failure.js';
import { readLogLines } from './criu-log.js';
import { type CriuRun, describeRun } from './criu-process.js';

/** The lazy-pages daemon's log, in the work folder. */
export const LAZY_LOG = 'lazy-pages.log';
/** What it prints on stdout and stderr, in the work folder. */
const LAZY_STDERR = 'lazy-pages.out';
/** The socket `criu lazy-pages` listens on and `criu restore --lazy-pages` connects to, in the work folder. */
export const LAZY_SOCKET = 'lazy-pages.socket';
/** How long the lazy-pages daemon may take to open its socket. */
export const LAZY_START_MS = 5000;

/** A running `criu lazy-pages`. */
export interface LazyPages {
  pid: number;
  /** The work folder: pass it to `criu restore -W`. */
  workDir: string;
  /** Settles when the daemon exits, with how it ended. */
  ended: Promise<CriuRun>;
}

/**
 * Starts `criu lazy-pages -D imagesDir` in a fresh work folder and waits until its socket
 * is there. With a page channel (post-copy migration) the pages come from the source host's
 * `criu dump --lazy-pages` instead of the folder: `--page-server --ps-socket 3`, fd 3 being one
 * end of a socketpair whose other end the daemon relays (CRIU never listens on an address).
 *
 * @throws CedanaError CEDANA_ERR_CRIU_LAZY_PAGES when it cannot start, exits or opens no
 *   socket within LAZY_START_MS (with its log's error lines); the work folder is kept for its log.
 */
export async function startLazyPages(binary: string, imagesDir: string, channel?: PageChannel): Promise<LazyPages> {
  const workDir = await mkdtemp(join(tmpdir(), 'cedana-lazy-'));
  const args = ['lazy-pages', '-D', imagesDir, '-W', workDir, '-o', LAZY_LOG, '-v2'];
  if (channel) args.push('--page-server', '--ps-socket', '3');
  // No pipe to the daemon: the lazy-pages daemon outlives it. What it prints goes to a file.
  const errPath = join(workDir, LAZY_STDERR);
  const errFile = await open(errPath, 'w', 0o600);
  // With a channel the daemon holds the socket's other end: the copy cannot outlive the daemon.
  const stdio = channel ? (['ignore', errFile.fd, errFile.fd, 'pipe'] as const) : (['ignore', errFile.fd, errFile.fd] as const);
  const child = spawnClean(binary, args, { detached: true, stdio: [...stdio] });
  await errFile.close();
  const printed = async () => (await readFile(errPath, 'utf8').catch(() => '')).slice(0, 16 * 1024);
  const ended = new Promise<CriuRun>((resolve) => {
    child.on('error', (err: NodeJS.ErrnoException) => resolve({ exit: null, signal: null, output: '', spawnError: err }));
    child.on('exit', (exit, signal) => void printed().then((output) => resolve({ exit, signal, output })));
  });
  child.unref();
  if (channel) {
    channel.attach(
      child.stdio[3] as Duplex,
      child.pid as number,
      ended.then(async (run) => ({
        ok: run.exit === 0,
        why:
          run.exit === 0
            ? 'pulled every page'
            : `${describeRun(run)}: ${(await readLogLines(join(workDir, LAZY_LOG))).slice(-3).join(' | ')}`,
      })),
    );
  }
  let gone: CriuRun | undefined;
  void ended.then((run) => {
    gone = run;
  });
  const deadline = Date.now() + LAZY_START_MS;
  while (!(await isSocket(join(workDir, LAZY_SOCKET)))) {
    if (gone === undefined && Date.now() < deadline) {
      await sleep(5);
      continue;
    }
    if (gone === undefined) child.kill('SIGKILL');
    const run = gone ?? (await ended);
    const logPath = join(workDir, LAZY_LOG);
    const err = criuFailure(
      'CEDANA_ERR_CRIU_LAZY_PAGES',
      `criu lazy-pages for ${imagesDir}`,
      gone === undefined ? { ...run, output: `no ${LAZY_SOCKET} after ${LAZY_START_MS / 1000} s` } : run,
      await readLogLines(logPath),
      logPath,
    );
    throw err; // the work folder stays, for its log
  }
  return { pid: child.pid as number, workDir, ended };
}

async function isSocket(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isSocket() ?? false;
}

/** Ends a lazy-pages daemon whose restore failed (it waits for a restore that will not come) and removes its work folder. */
export async function stopLazyPages(lazy: LazyPages): Promise<void> {
  try {
    process.kill(lazy.pid, 'SIGKILL');
  } catch {
    // gone already
  }
  await lazy.ended;
  await rm(lazy.workDir, { recursive: true, force: true });
}

/**
 * What a restore leaves in a folder checkpoint (restore.log, stats-restore) is copied from
 * the work folder into the images folder, where the daemon reads CRIU's figures.
 */
export async function keepRestoreOutputs(workDir: string, imagesDir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const to = join(imagesDir, name);
    await copyFile(join(workDir, name), to)
      .then(() => chmod(to, 0o600)) // a checkpoint's files are 0600
      .catch(() => {});
  }
}

/**
 * Watches the lazy-pages daemon of a restored process: logs when the whole memory is
 * resident (and removes the work folder), or, when it fails first, logs its error and
 * kills the restored process, whose memory is incomplete. The work folder of a failure is
 * kept for its log.
 */
export function superviseLazyPages(ctx: RestoreContext, lazy: LazyPages, restoredPid: number, startedAt: number): void {
  void lazy.ended.then(async (run) => {
    const ms = Math.round(performance.now() - startedAt);
    if (run.exit === 0) {
      ctx.log.info(
        { pid: restoredPid, lazyPagesPid: lazy.pid, ms },
        'lazy restore: the whole memory is resident (criu lazy-pages finished)',
      );
      await rm(lazy.workDir, { recursive: true, force: true });
      return;
    }
    const logPath = join(lazy.workDir, LAZY_LOG);
    const err = criuFailure(
      'CEDANA_ERR_CRIU_LAZY_PAGES',
      `criu lazy-pages of PID ${restoredPid}`,
      run,
      await readLogLines(logPath),
      logPath,
    );
    let killed = false;
    try {
      process.kill(restoredPid, 'SIGKILL');
      killed = true;
    } catch {
      // it ended on its own
    }
    ctx.log.error(
      { pid: restoredPid, lazyPagesPid: lazy.pid, ms, code: err.code, details: err.details, killed },
      `lazy restore: ${err.message}; ${killed ? 'the restored process was killed (its memory was incomplete)' : 'the restored process had already ended'}; the checkpoint is intact, restore it again`,
    );
  });
}
