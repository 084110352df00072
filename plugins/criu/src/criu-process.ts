/** Runs a criu command to its end, keeping what it printed on stderr. */
import { spawnClean } from '@cedana/plugin-sdk';

/** How a criu run ended. */
export interface CriuRun {
  /** Exit code, or null when a signal ended it. */
  exit: number | null;
  signal: NodeJS.Signals | null;
  /** What it printed (stdout and stderr together, capped at 64 KiB). */
  output: string;
  /** Set when criu could not be started at all (e.g. ENOENT). */
  spawnError?: NodeJS.ErrnoException;
}

const OUTPUT_CAP = 64 * 1024;

/**
 * Runs `binary args...` with stdin closed and collects its output. It is never
 * interrupted: killing criu in the middle of a dump or restore can leave a process tree
 * frozen or half restored, so callers check their abort signal before, not during.
 */
export function runCriu(binary: string, args: string[]): Promise<CriuRun> {
  return new Promise((resolve) => {
    const child = spawnClean(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      if (output.length < OUTPUT_CAP) output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err: NodeJS.ErrnoException) => resolve({ exit: null, signal: null, output, spawnError: err }));
    child.on('close', (exit, signal) => resolve({ exit, signal, output }));
  });
}

/** "exit 1", "signal SIGKILL" or "could not start: ENOENT", for messages. */
export function describeRun(run: CriuRun): string {
  if (run.spawnError) return `could not start: ${run.spawnError.code ?? run.spawnError.message}`;
  return run.signal ? `signal ${run.signal}` : `exit ${run.exit}`;
}
