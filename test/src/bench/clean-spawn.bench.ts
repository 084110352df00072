/**
 * What starting a helper without the daemon's fds costs: `criu --version` spawned bare (the
 * baseline), through the SDK's spawnClean (a perl one-liner that loads no module), and
 * through the one-liner spawnJob used before, which loaded POSIX. Interleaved in one run;
 * median and spread (min-max) of RUNS (21) runs each.
 * Run: node test/dist/bench/clean-spawn.bench.js
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { spawnClean } from '@cedana/plugin-sdk';

const RUNS = Number(process.env.RUNS ?? 21);
const PROGRAM = process.env.PROGRAM ?? 'criu';

const WITH_POSIX = [
  'use POSIX ();',
  'opendir(my $d, "/proc/self/fd") or die; my @fds = grep { /^\\d+$/ && $_ > 2 } readdir($d); closedir($d);',
  'POSIX::close($_) for @fds;',
  'exec { $ARGV[0] } @ARGV or die;',
].join(' ');

const ways: Record<string, () => ReturnType<typeof spawn>> = {
  'bare spawn': () => spawn(PROGRAM, ['--version'], { stdio: 'ignore' }),
  spawnClean: () => spawnClean(PROGRAM, ['--version'], { stdio: 'ignore' }),
  'perl with POSIX': () => spawn('perl', ['-e', WITH_POSIX, '--', PROGRAM, '--version'], { stdio: 'ignore' }),
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [name, start] of Object.entries(ways)) {
    const t = process.hrtime.bigint();
    const child = start();
    const [code] = await once(child, 'close');
    if (code !== 0) throw new Error(`${name}: ${PROGRAM} --version exited ${code}`);
    times[name]?.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const base = median(times['bare spawn'] ?? []);
console.log(`${PROGRAM} --version, ${RUNS} runs each, interleaved (ms)`);
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(
    `${name.padEnd(16)} median ${m.toFixed(1).padStart(6)}  min ${Math.min(...xs)
      .toFixed(1)
      .padStart(6)}  max ${Math.max(...xs)
      .toFixed(1)
      .padStart(6)}  vs bare ${(m - base >= 0 ? '+' : '') + (m - base).toFixed(1)}`,
  );
}
