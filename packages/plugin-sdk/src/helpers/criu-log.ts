/**
 * The telling lines of a CRIU log (dump.log, restore.log) that a runtime leaves in its work
 * path, for plugins whose final handler runs CRIU through a runtime (runc, containerd).
 */
import { readFile } from 'node:fs/promises';

/** Printed on every CRIU run here, and says nothing about a failure. */
const HARMLESS = [/rlimit: Can't setup RLIMIT_NOFILE for self/];
/** Closing summaries: true, but the line before them says why. */
const SUMMARY = [/Dumping FAILED/, /Restoring FAILED/, /cgroupd: recv req error/];

/** The relevant Error lines of a CRIU log (the last `max`), [] when it cannot be read. */
export async function criuErrorLines(path: string, max = 10): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return criuErrors(text).slice(-max);
}

export function criuErrors(text: string): string[] {
  return text.split('\n').filter((l) => /\bError\b/.test(l) && !HARMLESS.some((re) => re.test(l)));
}

/**
 * The line that says what went wrong: the last Error line that is no summary (one that
 * says what could not be done, if any), without its
 * timestamp and source location ("(00.04) 1: Error (criu/mount.c:2955): mnt: Can't ..."
 * gives "mnt: Can't ...").
 */
export function criuHeadline(lines: string[]): string | undefined {
  const specific = lines.filter((l) => !SUMMARY.some((re) => re.test(l)));
  // "Can't dump ghost file /big ..." says more than the "Dump files ... failed" that follows it.
  const line = specific.filter((l) => /Can't|cannot|No such|Permission denied/.test(l)).at(-1) ?? specific.at(-1) ?? lines.at(-1);
  return line?.replace(/^.*?\bError\b(?:\s*\([^)]*\))?:?\s*/, '').trim();
}
