/** What tells two daemons whether they share one PID space: the boot ID and the PID namespace. */
import { readFile, readlink } from 'node:fs/promises';

export async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
}

export async function pidNamespace(): Promise<string> {
  return readlink('/proc/self/ns/pid').catch(() => '');
}

/** Whether the target's MigratePrepare answer names this daemon's PID space (one machine). */
export async function samePidSpace(prep: { bootId: string; pidNs: string }): Promise<boolean> {
  return prep.bootId === (await bootId()) && prep.pidNs === (await pidNamespace());
}

/** Waits (up to `ms`) until no process has `pid`: killed and reaped. */
export async function pidGone(pid: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (pid > 0 && Date.now() < until) {
    if (
      !(await readlink(`/proc/${pid}/cwd`).then(
        () => true,
        (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
      ))
    )
      return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
