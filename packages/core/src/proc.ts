/**
 * Reads of /proc about one process or a process tree, for the daemon and for plugins
 * (through the SDK). Each returns undefined (or nothing) for a process that is gone.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * The fields of /proc/PID/stat after the command name, which may hold spaces and
 * parentheses: [0] is the state (field 3 of proc(5)), [1] the parent PID, [19] the start time.
 */
export async function statFields(pid: number): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
}

/** State letter (R, S, T, Z, ...), or undefined if gone. */
export async function processState(pid: number): Promise<string | undefined> {
  return (await statFields(pid))?.[0];
}

/** True while PID names a live process; a zombie (exited, not yet reaped) has ended. */
export async function isAlive(pid: number): Promise<boolean> {
  const state = await processState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Parent PID, or undefined if gone. */
export async function parentPid(pid: number): Promise<number | undefined> {
  const ppid = (await statFields(pid))?.[1];
  return ppid === undefined ? undefined : Number(ppid);
}

/** Start time in clock ticks since boot (field 22): with the PID, it names a process against PID reuse. */
export async function processStartTime(pid: number): Promise<number | undefined> {
  const ticks = (await statFields(pid))?.[19];
  return ticks === undefined ? undefined : Number(ticks);
}

/** Session ID and tty number (fields 6 and 7). */
export async function sessionAndTty(pid: number): Promise<{ sid: number; ttyNr: number } | undefined> {
  const fields = await statFields(pid);
  return fields === undefined ? undefined : { sid: Number(fields[3]), ttyNr: Number(fields[4]) };
}

/**
 * `root` and every process below it, root first (breadth first, siblings by PID). From
 * /proc/PID/task/TID/children where the kernel has them (CONFIG_PROC_CHILDREN): a read per
 * task of the tree. Else from the parent PIDs of all processes, a read per process of the
 * machine: on a busy host hundreds of reads, which took a small dump 0.1-0.8 s.
 */
export async function processTree(root: number): Promise<number[]> {
  const childrenOf: (pid: number) => number[] | Promise<number[]> = hasChildrenFiles() ? childrenFromTasks : await childrenFromScan();
  const out: number[] = [];
  let level = [root];
  while (level.length > 0) {
    const fresh = level.filter((pid) => !out.includes(pid));
    out.push(...fresh);
    level = (await Promise.all(fresh.map((pid) => childrenOf(pid)))).flat();
  }
  return out;
}

let childrenFiles: boolean | undefined;
function hasChildrenFiles(): boolean {
  childrenFiles ??= existsSync(`/proc/self/task/${process.pid}/children`);
  return childrenFiles;
}

/** The children of `pid`'s threads, by PID ([] when it is gone). */
async function childrenFromTasks(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const lists = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')));
  return lists
    .flatMap((l) => l.split(' '))
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** A lookup of children from the parent PID of every process of the machine. */
async function childrenFromScan(): Promise<(pid: number) => number[]> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n)).map(Number);
  const children = new Map<number, number[]>();
  await Promise.all(
    pids.map(async (p) => {
      const ppid = await parentPid(p);
      if (ppid !== undefined && ppid > 0) children.set(ppid, [...(children.get(ppid) ?? []), p]);
    }),
  );
  return (pid) => (children.get(pid) ?? []).sort((a, b) => a - b);
}

/** What fd N of PID points at: a path, or `pipe:[ino]`, `socket:[ino]`, ... */
export function fdTarget(pid: number, fd: number): Promise<string | undefined> {
  return readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
}

/** Open fds of PID with their targets. */
export async function openFds(pid: number): Promise<Map<number, string>> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  // All at once: one after the other, a process's few dozen links cost a dump tens of ms under load.
  const targets = await Promise.all(fds.map((fd) => fdTarget(pid, Number(fd))));
  const out = new Map<number, string>();
  fds.forEach((fd, i) => {
    const target = targets[i];
    if (target !== undefined) out.set(Number(fd), target);
  });
  return out;
}

/**
 * Resolves once `pid` is gone, a zombie, or reused by another process (its start time is
 * not `startTime`): how to wait for a process that is not one's child. Polls /proc.
 */
export async function untilGone(pid: number, startTime: number | undefined, everyMs = 250): Promise<void> {
  for (;;) {
    const now = await processStartTime(pid);
    if (now === undefined || (startTime !== undefined && now !== startTime) || !(await isAlive(pid))) return;
    await new Promise((r) => setTimeout(r, everyMs).unref());
  }
}
