/**
 * One restore attempt through shim/restore-shim.pl. The shim runs
 * `criu restore --restore-detached --restore-sibling`, so the restored process becomes
 * the shim's child: the shim reaps it and reports its exit status on stdout, and the
 * daemon only ever has the shim as a child, which Node reaps. The shim runs in its own
 * session (detached) and ignores SIGPIPE/SIGHUP, so the job outlives the daemon.
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type ExitStatus,
  parseShimEvent,
  type ShimEvent,
  type Started,
  shimExitStatus,
  signalName,
  spawnClean,
  untilGone,
} from '@cedana/plugin-sdk';
import type { CriuRun } from './criu-process.js';
import { destroyStdio, openDaemonEnds, type PipeSpec, type RestoredStdio, shimPipeArgs } from './restore-io.js';

/** The shim script, shipped in the package's `shim` folder. */
export const SHIM_PATH = fileURLToPath(new URL('../shim/restore-shim.pl', import.meta.url));

/** What one attempt needs. */
export interface ShimAttempt {
  /** The perl interpreter (perl-base is Essential on Debian). */
  perl: string;
  /** criu and its arguments, `--pidfile pidfile` among them. */
  criu: string[];
  pidfile: string;
  pipes: PipeSpec[];
  /** Where the shim also leaves the exit status (RestoreContext.exitStatusFile). */
  statusFile?: string;
  /** Added to the environment of the shim, and so of criu and its action scripts. */
  env?: Record<string, string>;
}

/** How an attempt ended: a restored process, or criu's failure (its output is the shim's stderr). */
export type ShimOutcome = { kind: 'restored'; started: Started } | { kind: 'failed'; run: CriuRun };

/** An event line of the shim (see the header of shim/restore-shim.pl). */
type RestoreShimEvent = ShimEvent<'pipes' | 'restored' | 'failed' | 'exited'>;

const POLL_MS = 200;

/** Runs one restore attempt; resolves when criu has restored the process or failed. Never rejects. */
export function runRestoreShim(attempt: ShimAttempt): Promise<ShimOutcome> {
  const statusArgs = attempt.statusFile ? ['--status-file', attempt.statusFile] : [];
  const args = [SHIM_PATH, '--pidfile', attempt.pidfile, ...statusArgs, ...shimPipeArgs(attempt.pipes), '--', ...attempt.criu];
  const env = attempt.env ? { ...process.env, ...attempt.env } : undefined;
  const shim = spawnClean(attempt.perl, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], ...(env && { env }) });
  shim.stdin.on('error', () => {}); // the shim may be gone before it reads "go"
  if (attempt.pipes.length === 0) shim.stdin.end();
  let stderr = '';
  shim.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
  });

  let reportExit: (s: ExitStatus) => void = () => {};
  const exited = new Promise<ExitStatus>((r) => {
    reportExit = r;
  });

  return new Promise<ShimOutcome>((resolve) => {
    let stdio: RestoredStdio | undefined;
    let restoredPid: number | undefined;
    let failed: RestoreShimEvent | undefined;
    let exitSeen = false;
    let pipeError: string | undefined;

    createInterface({ input: shim.stdout }).on('line', (line) => {
      const ev = parseShimEvent<RestoreShimEvent['event']>(line);
      if (!ev) {
        stderr += `unexpected line from the restore shim: ${line}\n`;
        return;
      }
      if (ev.event === 'pipes' && shim.pid !== undefined) {
        try {
          stdio = openDaemonEnds(shim.pid, ev.fds ?? {}, attempt.pipes);
          shim.stdin.end('go\n');
        } catch (err) {
          pipeError = `cannot open the restored job's pipes: ${(err as Error).message}`;
          shim.stdin.destroy(); // EOF before "go": the shim exits without running criu
        }
      } else if (ev.event === 'restored' && typeof ev.pid === 'number') {
        restoredPid = ev.pid;
        resolve({ kind: 'restored', started: { pid: ev.pid, exited, ...(stdio ? { stdio } : {}) } });
      } else if (ev.event === 'failed') {
        failed = ev;
      } else if (ev.event === 'exited') {
        exitSeen = true;
        reportExit(shimExitStatus(ev));
      }
    });

    shim.on('error', (err: NodeJS.ErrnoException) => {
      resolve({
        kind: 'failed',
        run: { exit: null, signal: null, output: `cannot start ${attempt.perl}: ${err.message}`, spawnError: err },
      });
    });
    shim.on('close', (code, signal) => {
      if (restoredPid !== undefined) {
        // Reported, or the shim was killed: then watch the process until it is gone.
        if (!exitSeen) void untilGone(restoredPid, undefined, POLL_MS).then(() => reportExit({ code: null, signal: null }));
        return;
      }
      destroyStdio(stdio);
      const output = [stderr.trim(), pipeError, failed?.reason].filter(Boolean).join('\n');
      if (failed) {
        const sig = typeof failed.signal === 'number' ? signalName(failed.signal) : null;
        resolve({ kind: 'failed', run: { exit: sig ? null : (failed.exit ?? null), signal: sig as NodeJS.Signals | null, output } });
      } else {
        resolve({
          kind: 'failed',
          run: { exit: code, signal, output: output || `the restore shim ended (${signal ?? `exit ${code}`}) without a report` },
        });
      }
    });
  });
}
