/** A process tree as /proc shows it: for thawing what an interrupted dump left stopped. */
import { readdir, readFile } from 'node:fs/promises';
import { processState, processTree } from '@cedana/core';

/**
 * Sends SIGCONT to every process of the tree that is stopped (state T, or t: stopped
 * while traced, by a tracer that is gone now). The PIDs continued.
 */
export async function continueStoppedTree(root: number): Promise<number[]> {
  const continued: number[] = [];
  for (const pid of await processTree(root)) {
    const state = await processState(pid);
    if (state !== 'T' && state !== 't') continue;
    try {
      process.kill(pid, 'SIGCONT');
      continued.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return continued;
}

/** The PID tracing `pid` (CRIU while it holds the tree), 0 when none, undefined when gone. */
export async function tracerOf(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  if (status === undefined) return undefined;
  return Number(/^TracerPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

/**
 * Processes whose command line names `path` as an argument (CRIU's `-D DIR`, runc's
 * `--image-path DIR`, a streamer's title `cedana-streamer capture DIR`): those still at
 * work on a dump's folder.
 */
export async function processesNaming(path: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (args.some((a) => a === path || a.endsWith(`=${path}`) || a.endsWith(` ${path}`))) out.push(Number(name));
  }
  return out;
}
