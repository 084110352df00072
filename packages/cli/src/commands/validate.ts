/** Checks of flag values that yargs' types cannot express; failures are usage errors (exit 2). */
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
