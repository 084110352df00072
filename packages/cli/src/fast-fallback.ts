/** The full CLI for fast-main.ts, where its fast path does not serve the command line: bundled with main.js, sharing its code. */
import { loadConfig } from '@cedana/core';
import { unreachable } from './call-errors.js';
import { exitCodeFor } from './exit-codes.js';
import { formatError } from './output/errors.js';
import { runMain } from './run-main.js';
import { targetOf } from './target.js';

/**
 * Runs `args` as main.js does; with `timedOut` (the daemon sent nothing within the deadline), says
 * so as the full client does at its deadline, rather than wait as long again.
 */
export async function runFull(args: readonly string[], timedOut?: string): Promise<number> {
  if (timedOut === undefined) return runMain(args);
  const err = unreachable(targetOf(loadConfig({ env: process.env })), timedOut);
  process.stderr.write(`${formatError(err)}\n`);
  return exitCodeFor(err);
}
