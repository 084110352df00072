/**
 * Benchmark (not a test): `cedana restore job J --lazy` (issue 17 item 5) of a process with
 * MEM_MIB of dirty memory (each 4 KiB page half random, half zeros), images on tmpfs,
 * against, in the same run and interleaved:
 *
 * - raw:     `criu restore -d` of a `criu dump` (the process runs, and its memory is resident, when it returns)
 * - none:    `cedana restore job J` of a `--compression none` checkpoint (a folder)
 * - lazy:    `cedana restore job J --lazy` of the same kind of checkpoint
 *
 * For each: the time from the command to the process running (the command's return), and
 * to the whole memory being resident: for raw and none the same; for lazy the time of the
 * daemon's log line that says criu lazy-pages finished. Medians of ROUNDS rounds with the
 * spread; cedana's times include the CLI, whose start-up is printed too, and the daemon's own
 * time to the process running (its "answered" log line) is printed beside them.
 *
 *   pnpm bench:lazy       (ROUNDS=5 MEM_MIB=1024 by default)
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';
import { memoryHog } from './memory-hog.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const MEM_MIB = Number(process.env.MEM_MIB ?? 1024);
const SHM = '/dev/shm/cedana-bench-lazy';
/** The kernel keeps a dumped PID for about 2 s; every variant waits it out untimed. */
const PID_SETTLE_MS = 2500;

const HOG = memoryHog(MEM_MIB);

interface Round {
  /** Seconds from the command to the process running. */
  running: number;
  /** Of which in the daemon (0: raw). */
  daemon: number;
  /** Seconds from the command to the whole memory resident. */
  resident: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;

async function waitReady(flag: string): Promise<void> {
  await waitFor('memory filled', () => (existsSync(flag) ? true : undefined), 120_000);
}

async function rawRound(round: number): Promise<Round> {
  const dir = join(SHM, `raw-${round}`);
  const flag = `${dir}.ready`;
  await mkdir(dir, { recursive: true });
  const child = spawn(process.execPath, ['-e', HOG, flag], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, UV_USE_IO_URING: '0' },
  });
  child.unref();
  await waitReady(flag);
  await run('criu', ['dump', '-t', String(child.pid), '-D', dir, '-o', 'dump.log']);
  await sleep(PID_SETTLE_MS);
  const t0 = performance.now();
  await run('criu', ['restore', '-D', dir, '-o', 'restore.log', '-d']);
  const s = (performance.now() - t0) / 1000;
  try {
    process.kill(child.pid as number, 'SIGKILL');
  } catch {}
  await rm(dir, { recursive: true, force: true });
  return { running: s, daemon: 0, resident: s };
}

/** The first daemon log line after `since` whose msg is `msg`. */
async function logLine(d: TestDaemon, msg: string, since: number): Promise<{ time: number; ms?: number } | undefined> {
  const text = await readFile(join(d.dir, 'daemon.log'), 'utf8');
  for (const line of text.split('\n')) {
    if (!line.includes(msg)) continue;
    const parsed = JSON.parse(line) as { time: number; ms?: number };
    if (parsed.time >= since) return parsed;
  }
  return undefined;
}

async function cedanaRound(d: TestDaemon, round: number, lazy: boolean): Promise<Round> {
  const jid = `bench-${lazy ? 'lazy' : 'none'}-${round}`;
  const flag = join(SHM, `${jid}.ready`);
  await d.ok(['run', 'process', '--jid', jid, '--env', 'UV_USE_IO_URING=0', '--', process.execPath, '-e', HOG, flag]);
  await waitReady(flag);
  await d.ok(['dump', 'job', jid, '--compression', 'none']);
  await sleep(PID_SETTLE_MS);
  const epoch0 = Date.now();
  const t0 = performance.now();
  await d.ok(['restore', 'job', jid, ...(lazy ? ['--lazy'] : [])]);
  const running = (performance.now() - t0) / 1000;
  const daemon = ((await logLine(d, '"answered"', epoch0))?.ms ?? 0) / 1000;
  let resident = running;
  if (lazy) {
    const done = await waitFor(
      'lazy-pages finished',
      async () => (await logLine(d, 'the whole memory is resident', epoch0))?.time,
      120_000,
    );
    resident = (done - epoch0) / 1000;
  }
  await d.ok(['job', 'kill', jid]);
  await sleep(500);
  await d.ok(['job', 'delete', jid]).catch(() => {});
  await rm(join(SHM, 'checkpoints'), { recursive: true, force: true });
  return { running, daemon, resident };
}

const VARIANTS: [string, string, (d: TestDaemon, r: number) => Promise<Round>][] = [
  ['raw', 'raw criu restore -d', (_, r) => rawRound(r)],
  ['none', 'cedana restore (none)', (d, r) => cedanaRound(d, r, false)],
  ['lazy', 'cedana restore --lazy', (d, r) => cedanaRound(d, r, true)],
];

async function main(): Promise<void> {
  await rm(SHM, { recursive: true, force: true });
  await mkdir(SHM, { recursive: true });
  const d = await TestDaemon.start({ CEDANA_CHECKPOINT_DIR: join(SHM, 'checkpoints'), CEDANA_LOG_LEVEL: 'info' });
  try {
    const startup: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await d.ok(['--version']);
      startup.push((performance.now() - t) / 1000);
    }
    const results = new Map<string, Round[]>(VARIANTS.map(([name]) => [name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved, so drift of this noisy VM hits every variant alike.
      for (const [name, , f] of VARIANTS) {
        const x = await f(d, r);
        results.get(name)?.push(x);
        const inDaemon = x.daemon ? ` (daemon ${x.daemon.toFixed(2)} s)` : '';
        process.stderr.write(
          `round ${r + 1}/${ROUNDS} ${name}: running ${x.running.toFixed(2)} s${inDaemon}, resident ${x.resident.toFixed(2)} s\n`,
        );
      }
    }
    const of = (name: string, k: keyof Round) => (results.get(name) ?? []).map((x) => x[k]);
    const rawResident = median(of('raw', 'resident'));
    const noneResident = median(of('none', 'resident'));
    console.log(
      `\n${MEM_MIB} MiB dirty memory, images on tmpfs, medians of ${ROUNDS} rounds (min-max); cedana's times include the CLI (start-up median ${median(startup).toFixed(2)} s, ${spread(startup)})`,
    );
    console.log('variant                  running s (spread)       resident s (spread)      resident x raw  x none');
    for (const [name, label] of VARIANTS) {
      const run = of(name, 'running');
      const res = of(name, 'resident');
      console.log(
        `${label.padEnd(24)} ${median(run).toFixed(2).padStart(6)} (${spread(run)})`.padEnd(50) +
          `${median(res).toFixed(2).padStart(6)} (${spread(res)})`.padEnd(25) +
          `${(median(res) / rawResident).toFixed(2).padStart(6)}  ${(median(res) / noneResident).toFixed(2).padStart(6)}`,
      );
    }
    for (const [name, label] of VARIANTS) {
      const inDaemon = of(name, 'daemon').filter((x) => x > 0);
      if (inDaemon.length) console.log(`in the daemon, ${label}: running after ${median(inDaemon).toFixed(2)} s (${spread(inDaemon)})`);
    }
    console.log('targets (issue 17 item 5): lazy running <= 0.25 s; lazy resident <= 1.3 x a normal (none) restore');
  } finally {
    await d.stop();
    await rm(SHM, { recursive: true, force: true });
  }
}

await main();
