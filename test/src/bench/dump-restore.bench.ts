/**
 * Benchmark (not a test): `cedana dump job` / `cedana restore job` against raw
 * `criu dump` / `criu restore` of the same kind of process, 1 GiB of dirty memory
 * (each 4 KiB page half random, half zeros: about 2:1 for lz4), images on tmpfs.
 * Medians of ROUNDS rounds, measured in one run (variants interleaved), with ratios:
 *
 * - raw:           `criu dump` to tmpfs, `criu restore -d` from it
 * - raw + lz4 -1:  `criu dump`, then `lz4 -1` of every image (the sequential pipeline)
 * - none, lz4, zstd: cedana with --compression (folder / tar archive)
 * - streams N:     cedana with --compression lz4 --streams N (the streamer plugin), N = 1, 2, 4
 *
 * Also the daemon's peak RSS (VmHWM, reset before each dump and restore) and the streamer
 * process's (its own VmHWM, in the stats of the dump and the restore: nothing polls while
 * cedana runs, which would take CPU from it and not from raw CRIU).
 *
 * Cedana's times include the CLI; the daemon's own time (from its "answered" log line) is
 * printed beside them, so that the CLI's start and the daemon's steps are told apart.
 *
 *   pnpm bench            (ROUNDS=3 MEM_MIB=1024 by default; VARIANTS=raw,streams-2 to pick)
 *   pnpm bench:small      (a 64 MiB job, --streams 2, 5 rounds: issue 17 item 4)
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';
import { memoryHog } from './memory-hog.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const MEM_MIB = Number(process.env.MEM_MIB ?? 1024);
/** Per run (BENCH_DIR to choose): benches of other checkouts on the same machine must not remove this one's images. */
const SHM = process.env.BENCH_DIR ?? `/dev/shm/cedana-bench-${process.pid}`;
/** The kernel keeps a dumped PID for about 2 s; every variant waits it out untimed. */
const PID_SETTLE_MS = 2500;

const HOG = memoryHog(MEM_MIB);

interface Round {
  dump: number;
  restore: number;
  /** Seconds of the dump and the restore inside the daemon (0: not cedana). */
  daemonDump: number;
  daemonRestore: number;
  /** Peak RSS in MiB (0: not measured). */
  daemonDumpMiB: number;
  daemonRestoreMiB: number;
  streamerMiB: number;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function waitReady(flag: string): Promise<void> {
  const { existsSync } = await import('node:fs');
  await waitFor('memory filled', () => (existsSync(flag) ? true : undefined), 120_000);
}

function startHog(flag: string): number {
  const child = spawn(process.execPath, ['-e', HOG, flag], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, UV_USE_IO_URING: '0' },
  });
  child.unref();
  return child.pid as number;
}

async function rawRound(round: number, compress: boolean): Promise<Round> {
  const dir = join(SHM, `raw-${compress ? 'lz4' : 'none'}-${round}`);
  const flag = `${dir}.ready`;
  await mkdir(dir, { recursive: true });
  const pid = startHog(flag);
  await waitReady(flag);
  const dump = await time(async () => {
    await run('criu', ['dump', '-t', String(pid), '-D', dir, '-o', 'dump.log']);
    if (compress) {
      const images = (await readdir(dir)).filter((f) => f.endsWith('.img')).map((f) => join(dir, f));
      await run('lz4', ['-1', '-q', '-m', ...images]);
    }
  });
  await sleep(PID_SETTLE_MS);
  // The sequential pipeline's restore would decompress first; only the raw restore is a baseline.
  const restore = compress ? 0 : await time(() => run('criu', ['restore', '-D', dir, '-o', 'restore.log', '-d']));
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
  await rm(dir, { recursive: true, force: true });
  return { dump, restore, daemonDump: 0, daemonRestore: 0, daemonDumpMiB: 0, daemonRestoreMiB: 0, streamerMiB: 0 };
}

/** Seconds the daemon's last answer to `method` took, from its log line (service.ts). */
function answeredIn(d: TestDaemon, method: string): number {
  const lines = d
    .log()
    .split('\n')
    .filter((l) => l.includes('"answered"') && l.includes(`"method":"${method}"`));
  const last = lines.at(-1);
  return last ? (JSON.parse(last) as { ms: number }).ms / 1000 : 0;
}

/** Resets the daemon's peak RSS, runs `fn`, returns the new peak in MiB. */
async function daemonPeak(d: TestDaemon, fn: () => Promise<unknown>): Promise<number> {
  await writeFile(`/proc/${d.pid}/clear_refs`, '5');
  await fn();
  const status = await readFile(`/proc/${d.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** What `--json` prints of a dump or restore that this bench reads. */
interface TimedResp {
  stats?: { streamsPeakRssBytes?: number | string };
}
const streamerMiB = (r: TimedResp) => Number(r.stats?.streamsPeakRssBytes ?? 0) / (1 << 20);

async function cedanaRound(d: TestDaemon, round: number, compression: string, streams: number): Promise<Round> {
  const jid = `bench-${compression}-${streams}-${round}`;
  const flag = join(SHM, `${jid}.ready`);
  await d.ok(['run', 'process', '--jid', jid, '--env', 'UV_USE_IO_URING=0', '--', process.execPath, '-e', HOG, flag]);
  await waitReady(flag);
  let dump = 0;
  let restore = 0;
  let dumped: TimedResp = {};
  let restored: TimedResp = {};
  const daemonDumpMiB = await daemonPeak(d, async () => {
    dump = await time(async () => {
      dumped = await d.json(['dump', 'job', jid, '--compression', compression, '--streams', String(streams)]);
    });
  });
  const daemonDump = answeredIn(d, 'Dump');
  await sleep(PID_SETTLE_MS);
  const daemonRestoreMiB = await daemonPeak(d, async () => {
    restore = await time(async () => {
      restored = await d.json(['restore', 'job', jid]);
    });
  });
  const daemonRestore = answeredIn(d, 'Restore');
  await d.ok(['job', 'kill', jid]);
  await sleep(500);
  await d.ok(['job', 'delete', jid]).catch(() => {});
  await rm(join(SHM, 'checkpoints'), { recursive: true, force: true });
  return {
    dump,
    restore,
    daemonDump,
    daemonRestore,
    daemonDumpMiB,
    daemonRestoreMiB,
    streamerMiB: Math.max(streamerMiB(dumped), streamerMiB(restored)),
  };
}

const VARIANTS: [string, string, (d: TestDaemon, r: number) => Promise<Round>][] = [
  ['raw', 'raw criu dump/restore -d', (_, r) => rawRound(r, false)],
  ['raw-lz4', 'raw criu dump + lz4 -1', (_, r) => rawRound(r, true)],
  ['none', 'cedana --compression none', (d, r) => cedanaRound(d, r, 'none', 0)],
  ['lz4', 'cedana --compression lz4', (d, r) => cedanaRound(d, r, 'lz4', 0)],
  ['zstd', 'cedana --compression zstd', (d, r) => cedanaRound(d, r, 'zstd', 0)],
  ['streams-1', 'cedana lz4 --streams 1', (d, r) => cedanaRound(d, r, 'lz4', 1)],
  ['streams-2', 'cedana lz4 --streams 2', (d, r) => cedanaRound(d, r, 'lz4', 2)],
  ['streams-4', 'cedana lz4 --streams 4', (d, r) => cedanaRound(d, r, 'lz4', 4)],
];

async function main(): Promise<void> {
  const picked = process.env.VARIANTS?.split(',');
  const variants = VARIANTS.filter(([name]) => !picked || picked.includes(name) || name === 'raw' || name === 'raw-lz4');
  await rm(SHM, { recursive: true, force: true });
  await mkdir(SHM, { recursive: true });
  // A daemon per variant: the peak RSS of one variant must not be what another left behind.
  const daemons = new Map<string, TestDaemon>();
  for (const [name] of variants) {
    daemons.set(name, await TestDaemon.start({ CEDANA_CHECKPOINT_DIR: join(SHM, 'checkpoints'), CEDANA_LOG_LEVEL: 'info' }));
  }
  const d = daemons.get('none') ?? (daemons.values().next().value as TestDaemon);
  try {
    const cliStart = median(await Promise.all([0, 1, 2].map(() => time(() => d.ok(['--version'])))));
    const results = new Map<string, Round[]>(variants.map(([name]) => [name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved, so drift of this noisy VM hits every variant alike.
      for (const [name, , f] of variants) {
        const x = await f(daemons.get(name) as TestDaemon, r);
        results.get(name)?.push(x);
        const inDaemon = x.daemonDump ? ` (daemon ${x.daemonDump.toFixed(2)} / ${x.daemonRestore.toFixed(2)} s)` : '';
        process.stderr.write(
          `round ${r + 1}/${ROUNDS} ${name}: dump ${x.dump.toFixed(2)} s, restore ${x.restore.toFixed(2)} s${inDaemon}\n`,
        );
      }
    }
    const med = (name: string, key: keyof Round) => median((results.get(name) ?? []).map((x) => x[key]));
    const rawDump = med('raw', 'dump');
    const rawRestore = med('raw', 'restore');
    const seqDump = med('raw-lz4', 'dump');
    console.log(
      `\n${MEM_MIB} MiB dirty memory (2:1 for lz4), images on tmpfs, medians of ${ROUNDS} rounds; cedana's times include the CLI (start-up ${cliStart.toFixed(2)} s)`,
    );
    console.log('variant                       dump s  x raw  x seq   restore s  x raw   daemon MiB dump/restore  streamer MiB');
    for (const [name, label] of variants) {
      const dm = med(name, 'dump');
      const rs = med(name, 'restore');
      const mib = (k: keyof Round) => (med(name, k) ? med(name, k).toFixed(0) : '-');
      console.log(
        `${label.padEnd(28)} ${dm.toFixed(2).padStart(6)}  ${(dm / rawDump).toFixed(2).padStart(5)}  ${(dm / seqDump).toFixed(2).padStart(5)}   ${
          rs ? rs.toFixed(2).padStart(9) : '        -'
        }  ${rs ? (rs / rawRestore).toFixed(2).padStart(5) : '    -'}   ${`${mib('daemonDumpMiB')}/${mib('daemonRestoreMiB')}`.padStart(22)}  ${mib('streamerMiB').padStart(12)}`,
      );
    }
    // Medians hide how far apart the rounds were: raw CRIU on a noisy VM can be bimodal.
    for (const [name, label] of variants) {
      const spread = (k: 'dump' | 'restore') => {
        const xs = (results.get(name) ?? []).map((x) => x[k]).filter((x) => x > 0);
        return xs.length ? `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)} s` : '-';
      };
      console.log(`rounds of ${label.trim()}: dump ${spread('dump')}, restore ${spread('restore')}`);
    }
    // The CLI's start is in every cedana figure above: what the daemon itself took, and its excess over raw CRIU.
    for (const [name, label] of variants) {
      if (!med(name, 'daemonDump')) continue;
      const dd = med(name, 'daemonDump');
      const dr = med(name, 'daemonRestore');
      console.log(
        `in the daemon, ${label.trim()}: dump ${dd.toFixed(2)} s (raw + ${(dd - rawDump).toFixed(2)}), restore ${dr.toFixed(2)} s (raw + ${(dr - rawRestore).toFixed(2)}); with the CLI: raw + ${(med(name, 'dump') - rawDump).toFixed(2)} / + ${(med(name, 'restore') - rawRestore).toFixed(2)} s`,
      );
    }
    console.log('targets (issue 17 item 4): a 64 MiB job, streams 2 dump and restore each <= raw + 0.15 s');
    console.log('targets (issue 6): streams 2 dump <= 1.3 x raw and <= 0.6 x seq; restore <= 1.3 x raw; daemon < 256 MiB');
    console.log(
      'targets (issue 17): lz4 dump <= 1.0 x seq, restore <= 1.3 x raw; none restore <= 1.15 x raw; daemon <= 128 MiB in every variant',
    );
  } finally {
    for (const daemon of daemons.values()) await daemon.stop();
    await rm(SHM, { recursive: true, force: true });
  }
}

await main();
