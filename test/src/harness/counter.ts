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

/**
 * A counter that also holds `mib` MiB of memory, half random: enough chunks to spread over
 * every stream shard, and enough work for a compressor. It appends the md5 of that memory
 * to FILE.md5 when it starts and on SIGUSR1.
 */
export function bigCounter(file: string, mib: number): string[] {
  const script = `use Digest::MD5 qw(md5_hex); open(my $r, '<', '/dev/urandom'); my @m; for (1..${mib}) { read($r, my $b, 524288); push @m, $b . ("\\0" x 524288) }
    sub digest { open(my $h, '>>', '${file}.md5'); print $h md5_hex(@m), "\\n"; close $h } digest(); $SIG{USR1} = \\&digest;
    $| = 1; my $i = 0; while (1) { $i++; open(my $f, '>>', '${file}'); print $f "$i\\n"; close $f; select(undef, undef, undef, 0.1) }`;
  return ['perl', '-e', script];
}

/** The md5s a bigCounter wrote to FILE.md5 so far. */
export const digests = async (file: string) => (await readFile(`${file}.md5`, 'utf8').catch(() => '')).split('\n').filter(Boolean);
