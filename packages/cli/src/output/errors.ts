/**
 * How an error reaches the user:
 *
 *   Error [CEDANA_ERR_JOB_NOT_FOUND]: no job "abc"
 *     <detail lines, e.g. the tail of CRIU's log>
 *   hint: list jobs with `cedana ps`
 */
import { toCedanaError } from '@cedana/core';

export function formatError(err: unknown): string {
  const e = toCedanaError(err);
  const lines = [`Error [${e.code}]: ${e.message}`];
  for (const detail of e.details) lines.push(`  ${detail}`);
  if (e.hint) lines.push(`hint: ${e.hint}`);
  return lines.join('\n');
}
