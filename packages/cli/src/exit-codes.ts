/**
 * What `cedana` exits with. Scripts rely on these: keep them stable, and keep the
 * --help epilogue (EXIT_CODES_HELP) in step.
 */
import { CedanaError, type ErrorCode, isCedanaError, type PluginErrorCode } from '@cedana/core';

export const EXIT = {
  OK: 0,
  /** The request failed: the daemon (or the CLI itself) said why. */
  FAILED: 1,
  /** Bad usage: unknown command, missing or invalid flag. */
  USAGE: 2,
  /** No daemon answers at the configured address, or none that this client can talk to (TLS refused, one side without TLS). */
  UNREACHABLE: 3,
} as const;

export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0  success',
  '  1  the request failed (the error says why and what to do next)',
  '  2  bad usage: unknown command, missing or invalid flag',
  '  3  the daemon is unreachable (or its TLS certificate refused, or one side speaks TLS and the other not)',
].join('\n');

/** A mistake in the command line, found before any request is sent. */
export class UsageError extends CedanaError {
  constructor(
    message: string,
    hint = 'run the command with --help to see what it expects',
    code: ErrorCode | PluginErrorCode = 'CEDANA_ERR_INVALID_ARGUMENT',
  ) {
    super(code, message, { hint });
    this.name = 'UsageError';
  }
}

/** The codes of a connection that never got to a call. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'CEDANA_ERR_DAEMON_UNREACHABLE',
  'CEDANA_ERR_TLS_UNTRUSTED',
  'CEDANA_ERR_TLS_HOSTNAME',
  'CEDANA_ERR_TLS_MISMATCH',
] satisfies ErrorCode[]);

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.USAGE;
  if (isCedanaError(err) && UNREACHABLE_CODES.has(err.code)) return EXIT.UNREACHABLE;
  return EXIT.FAILED;
}
