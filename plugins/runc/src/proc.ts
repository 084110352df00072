/**
 * What the plugin reads from /proc about a container's processes: whether one still
 * lives (a zombie does not), its start time (guards against PID reuse), its children,
 * its mounts and the files it maps.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Fields of /proc/PID/stat after the command name, which may hold spaces and parentheses. */
async function statFields(pid: number): Promise<string[] | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
}

/** True while the process runs; a zombie (exited, not yet reaped) has ended. */
export async function isLive(pid: number): Promise<boolean> {
  const state = (await statFields(pid))?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Start time in clock ticks since boot (field 22), or undefined when there is no such process. */
export async function processStartTime(pid: number): Promise<number | undefined> {
  const ticks = (await statFields(pid))?.[19];
  return ticks === undefined ? undefined : Number(ticks);
}

/** `pid` and every process below it. */
export async function processTree(pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    out.push(p);
    const tasks = await readdir(`/proc/${p}/task`).catch(() => [] as string[]);
    for (const tid of tasks) {
      const children = await readFile(`/proc/${p}/task/${tid}/children`, 'utf8').catch(() => '');
      for (const c of children.split(' ').filter(Boolean)) queue.push(Number(c));
    }
  }
  return out;
}

/** A mount as the process sees it (/proc/PID/mountinfo). */
export interface MountEntry {
  mountPoint: string;
  options: string[];
}

/** The mounts of the process's mount namespace, with paths relative to its root. */
export async function mountsOf(pid: number): Promise<MountEntry[]> {
  const text = await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const cols = line.split(' ');
      return { mountPoint: unescapeMountPath(cols[4] ?? ''), options: (cols[5] ?? '').split(',') };
    });
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
export function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** The mount a path lives on: the longest mount point that contains it. */
export function mountOfPath(path: string, mountPoints: string[]): string {
  let best = '/';
  for (const mp of mountPoints) {
    if ((path === mp || path.startsWith(mp === '/' ? '/' : `${mp}/`)) && mp.length > best.length) best = mp;
  }
  return best;
}

/** Regular files the process maps (its program and libraries), as paths inside its root. */
export async function mappedFiles(pid: number): Promise<string[]> {
  const text = await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '');
  return parseMaps(text);
}

export function parseMaps(text: string): string[] {
  const files = new Set<string>();
  for (const line of text.split('\n')) {
    const path = line.split(/\s+/).slice(5).join(' ');
    if (path.startsWith('/') && !path.endsWith(' (deleted)') && !path.startsWith('/dev/') && !path.startsWith('/memfd:')) files.add(path);
  }
  return [...files].sort();
}
