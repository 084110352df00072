/**
 * Running the runc binary: where it is, the global flags (--root, --log), and what it
 * said when it failed (its --log-format json lines, else its stderr).
 */
import { readFile } from 'node:fs/promises';
import { CedanaError, findOnPath, spawnClean } from '@cedana/plugin-sdk';

/** How a runc run ended. */
export interface RuncRun {
  exit: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  spawnError?: NodeJS.ErrnoException;
}

const OUTPUT_CAP = 1024 * 1024;
const INSTALL_HINT = "install runc (Debian: `apt-get install runc`) and make sure it is on the daemon's PATH";

/** The runc on the daemon's PATH. */
export async function locateRunc(path = process.env.PATH ?? ''): Promise<string> {
  const found = await findOnPath('runc', path);
  if (found) return found;
  throw new CedanaError('CEDANA_ERR_RUNC_NOT_FOUND', `runc is not on the daemon's PATH (${path || 'empty'})`, { hint: INSTALL_HINT });
}

/** `--root ROOT` when a root is given (else runc's default, /run/runc), and `--log FILE --log-format json`. */
export function globalArgs(root: string, log?: string): string[] {
  return [...(root ? ['--root', root] : []), ...(log ? ['--log', log, '--log-format', 'json'] : [])];
}

/** Runs `runc args...` to its end with stdin closed. Never rejects. */
export function runRunc(binary: string, args: string[]): Promise<RuncRun> {
  return new Promise((resolve) => {
    const child = spawnClean(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      if (stdout.length < OUTPUT_CAP) stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < OUTPUT_CAP) stderr += c.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => resolve({ exit: null, signal: null, stdout, stderr, spawnError: err }));
    child.on('close', (exit, signal) => resolve({ exit, signal, stdout, stderr }));
  });
}

/** Throws CEDANA_ERR_RUNC_NOT_FOUND when the binary could not be started at all. */
export function assertStarted(run: RuncRun, binary: string): void {
  if (run.spawnError) {
    throw new CedanaError('CEDANA_ERR_RUNC_NOT_FOUND', `cannot run ${binary}: ${run.spawnError.code ?? run.spawnError.message}`, {
      hint: INSTALL_HINT,
    });
  }
}

/** "exit 1" or "signal SIGKILL", for messages. */
export function describeExit(run: { exit: number | null; signal: string | null }): string {
  return run.signal ? `signal ${run.signal}` : `exit ${run.exit}`;
}

/**
 * The error messages runc gave: the `msg` of its json log lines at level error (or
 * fatal), else the lines of its stderr without logrus' `time=... level=error msg=` prefix.
 */
export function runcErrors(logText: string, stderr: string): string[] {
  const fromLog: string[] = [];
  for (const line of logText.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal') && entry.msg) fromLog.push(entry.msg);
    } catch {
      // not a json line
    }
  }
  if (fromLog.length > 0) return unique(fromLog.flatMap((m) => m.split('\n')));
  return unique(
    stderr
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => {
        const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(l);
        return m ? (m[1] ?? '').replace(/\\n/g, '\n').replace(/\\(.)/g, '$1') : l;
      })
      .flatMap((m) => m.split('\n')),
  );
}

/** The error lines of runc's json log file, '' when it cannot be read. */
export async function readRuncLog(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

function unique(lines: string[]): string[] {
  return [...new Set(lines.filter((l) => l.trim() !== ''))];
}
