/**
 * The one rule for names a user gives that become file names or table cells: job IDs
 * (--jid) and checkpoint names (--name). The daemon checks new names where they are born;
 * the CLI checks the same rule first for a quick usage error.
 */
import { createHash } from 'node:crypto';
import { CedanaError } from './errors.js';

/** A letter or digit, then up to 127 letters, digits, dots, underscores or dashes: one path component, never `.` or `..`. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The rule in words, for messages. */
export const NAME_RULE = '1 to 128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit';

export type NamedThing = 'JID' | 'checkpoint name';

export function isValidName(value: string): boolean {
  return NAME_PATTERN.test(value);
}

/** Throws CEDANA_ERR_INVALID_NAME, quoting (a bounded part of) the value, unless it follows the rule. */
export function checkName(what: NamedThing, value: string): string {
  if (isValidName(value)) return value;
  throw new CedanaError('CEDANA_ERR_INVALID_NAME', `${what} ${quote(value)} is not valid: it must be ${NAME_RULE}`);
}

/**
 * A file name for a JID that may predate the rule (records made before it was enforced):
 * the JID itself when it follows the rule, else a digest of it, so a path is never built
 * from an unchecked name.
 */
export function fileNameFor(jid: string): string {
  return isValidName(jid) ? jid : `jid-${createHash('sha256').update(jid).digest('hex').slice(0, 16)}`;
}

/** JSON-quoted, cut to 64 characters: a 10 KB name does not flood the terminal. */
function quote(value: string): string {
  const cut = value.length > 64 ? `${value.slice(0, 64)}...` : value;
  return `${JSON.stringify(cut)}${value.length > 64 ? ` (${value.length} characters)` : ''}`;
}
