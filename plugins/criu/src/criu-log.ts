/**
 * Reading CRIU's log (-o dump.log / restore.log) after a failure: the line that says
 * what went wrong, and the lines worth showing under the error.
 */
import { readFile } from 'node:fs/promises';

/** Lines CRIU prints on every run here that say nothing about the failure. */
const HARMLESS = [/rlimit: Can't setup RLIMIT_NOFILE for self/];
/** The closing summary lines: true, but the line before them says why. */
const SUMMARY = [/Dumping FAILED\.?\s*$/, /Restoring FAILED\.?\s*$/, /^\s*\(?[\d.]*\)?\s*Error .*: Restoring FAILED/];
const ERROR_LINE = /\bError\b/;

/** How many lines a failure shows. */
export const DETAIL_LINES = 15;

/** The log's lines, or [] when it cannot be read (criu may have failed before opening it). */
export async function readLogLines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  } catch {
    return [];
  }
}

/** True for error lines that matter: not the harmless rlimit line. */
function isRelevantError(line: string): boolean {
  return ERROR_LINE.test(line) && !HARMLESS.some((re) => re.test(line));
}

/**
 * The line to put in the error message: the last relevant Error line that is not the
 * closing "Dumping FAILED." summary, stripped of its timestamp and source location
 * ("(00.04) Error (criu/cr-restore.c:1237): Can't fork for 8921: File exists" gives
 * "Can't fork for 8921: File exists"). Undefined when the log has no error line.
 */
export function headlineError(lines: string[]): string | undefined {
  const errors = lines.filter(isRelevantError);
  const specific = errors.filter((l) => !SUMMARY.some((re) => re.test(l)));
  const line = specific.at(-1) ?? errors.at(-1);
  return line?.replace(/^.*?\bError\b(?:\s*\([^)]*\))?:?\s*/, '').trim();
}

/** The lines shown under the error: the last relevant Error lines, or the log's tail when there are none. */
export function detailLines(lines: string[], max = DETAIL_LINES): string[] {
  const errors = lines.filter(isRelevantError);
  return (errors.length > 0 ? errors : lines).slice(-max);
}
