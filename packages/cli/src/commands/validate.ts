/** Checks of flag values that yargs' types cannot express; failures are usage errors (exit 2). */
import { checkName, isCedanaError, type NamedThing } from '@cedana/core';
import { UsageError } from '../exit-codes.js';

/** A PID: a positive integer. */
export function pidOf(value: unknown, what = 'PID'): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0)
    throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** A count: a non-negative integer, or undefined when the flag was not given. */
export function countOf(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new UsageError(`--${flag} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return value;
}

/** KEY=VALUE pairs of --env. */
export function envOf(values: readonly unknown[] | undefined): string[] {
  return (values ?? []).map((v) => {
    const s = String(v);
    if (!/^[^=]+=/.test(s)) throw new UsageError(`--env takes KEY=VALUE, got ${JSON.stringify(s)}`);
    return s;
  });
}

/** A --jid or --name the CLI can refuse before asking the daemon (which checks the same rule); '' when not given. */
export function nameOf(value: unknown, what: NamedThing): string {
  if (value === undefined || value === '') return '';
  try {
    return checkName(what, String(value));
  } catch (err) {
    if (isCedanaError(err)) throw new UsageError(err.message, err.hint, err.code);
    throw err;
  }
}
