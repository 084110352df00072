/** Reads of /proc about one process. */
import { readFile, readlink } from 'node:fs/promises';
import { constants } from 'node:os';

/** Process start time in clock ticks since boot (field 22 of /proc/PID/stat), or undefined if gone. */
export async function processStartTime(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[19]);
}

/** Parent PID (field 4 of /proc/PID/stat), or undefined if gone. */
export async function parentPid(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat === undefined ? undefined : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** State letter of /proc/PID/stat (R, S, Z, ...), or undefined if gone. */
export async function processState(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** True while PID names a live process (not a zombie). */
export async function isAlive(pid: number): Promise<boolean> {
  const state = await processState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** What fd N of PID points at: a path, or `pipe:[ino]`, `socket:[ino]`, ... */
export function fdTarget(pid: number, fd: number): Promise<string | undefined> {
  return readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
}

/** Open fds of PID with their targets. */
export async function openFds(pid: number): Promise<Map<number, string>> {
  const { readdir } = await import('node:fs/promises');
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  const out = new Map<number, string>();
  for (const fd of fds) {
    const target = await fdTarget(pid, Number(fd));
    if (target !== undefined) out.set(Number(fd), target);
  }
  return out;
}

/** Session ID and tty number of PID (fields 6 and 7 of /proc/PID/stat). */
export async function sessionAndTty(pid: number): Promise<{ sid: number; ttyNr: number } | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { sid: Number(fields[3]), ttyNr: Number(fields[4]) };
}

/** SIGTERM -> 15, "9" -> 9; undefined when unknown. */
export function signalNumber(signal: string): number | undefined {
  if (/^\d+$/.test(signal)) return Number(signal);
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  return (constants.signals as Record<string, number>)[name];
}

/** 9 -> SIGKILL */
export function signalName(n: number): string {
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0] ?? `SIG${n}`;
}
