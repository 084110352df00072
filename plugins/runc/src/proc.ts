/**
 * What the plugin reads from /proc about a container's processes beyond the SDK's
 * readers: its mounts and the files it maps.
 */
import { readFile } from 'node:fs/promises';

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
