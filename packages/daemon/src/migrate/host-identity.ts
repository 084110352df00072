/** What tells two daemons whether they share one PID space: the boot ID and the PID namespace. */
import { readFile, readlink } from 'node:fs/promises';

export async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
}

export async function pidNamespace(): Promise<string> {
  return readlink('/proc/self/ns/pid').catch(() => '');
}
