/** A process that counts in its own memory and appends each count to a file: the test subject. */
import { readFile } from 'node:fs/promises';
import { waitFor } from './daemon.js';

/** The shell counter: its count lives only in the shell's memory, so a restart would start again from 1. */
export function counterScript(file: string, intervalS = 0.1): string[] {
  return ['sh', '-c', `i=0; while :; do i=$((i+1)); echo $i >> ${file}; sleep ${intervalS}; done`];
}

/** The counts written so far. */
export async function counts(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

export async function lastCount(file: string): Promise<number> {
  return (await counts(file)).at(-1) ?? 0;
}

/** Waits until the counter has passed `n`. */
export async function waitForCount(file: string, n: number, timeoutMs = 10_000): Promise<number> {
  return waitFor(
    `count > ${n} in ${file}`,
    async () => {
      const last = await lastCount(file);
      return last > n ? last : undefined;
    },
    timeoutMs,
  );
}
