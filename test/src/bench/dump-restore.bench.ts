/**
 * Benchmark (not a test): `cedana dump job` / `cedana restore job` against raw
 * `criu dump` / `criu restore` of the same kind of process, 1 GiB of dirty memory
 * (each 4 KiB page half random, half zeros: about 2:1 for lz4), images on tmpfs.
 * Medians of ROUNDS rounds, measured in one run, with their ratios.
 *
 *   pnpm bench            (ROUNDS=5 MEM_MIB=1024 by default)
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const MEM_MIB = Number(process.env.MEM_MIB ?? 1024);
const SHM = '/dev/shm/cedana-bench';
/** The kernel keeps a dumped PID for about 2 s; both sides wait it out untimed. */
const PID_SETTLE_MS = 2500;

// Fills MEM_MIB of memory, each 4 KiB page half random and half zeros, then idles.
const HOG = `
const crypto = require('node:crypto');
const b = Buffer.alloc(${MEM_MIB} * 1024 * 1024);
const half = Buffer.alloc(2048);
for (let o = 0; o < b.length; o += 4096) { crypto.randomFillSync(half); half.copy(b, o); }
require('node:fs').writeFileSync(process.argv[1], 'ready');
setInterval(() => { b[0]++; }, 1000);
`;

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

async function rawRound(round: number): Promise<{ dump: number; restore: number }> {
  const dir = join(SHM, `raw-${round}`);
  const flag = join(SHM, `raw-${round}.ready`);
  await mkdir(dir, { recursive: true });
  const child = spawn(process.execPath, ['-e', HOG, flag], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, UV_USE_IO_URING: '0' },
  });
  child.unref();
  await waitReady(flag);
  const pid = child.pid as number;
  const dump = await time(() => run('criu', ['dump', '-t', String(pid), '-D', dir, '-o', 'dump.log']));
  await sleep(PID_SETTLE_MS);
  const restore = await time(() => run('criu', ['restore', '-D', dir, '-o', 'restore.log', '-d']));
  process.kill(pid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
  return { dump, restore };
}

async function cedanaRound(d: TestDaemon, round: number, compression: string): Promise<{ dump: number; restore: number }> {
  const jid = `bench-${compression}-${round}`;
  const flag = join(SHM, `${jid}.ready`);
  await d.ok(['run', 'process', '--jid', jid, '--env', 'UV_USE_IO_URING=0', '--', process.execPath, '-e', HOG, flag]);
  await waitReady(flag);
  const dump = await time(() => d.ok(['dump', 'job', jid, '--compression', compression]));
  await sleep(PID_SETTLE_MS);
  const restore = await time(() => d.ok(['restore', 'job', jid]));
  await d.ok(['job', 'kill', jid]);
  await sleep(500);
  await d.ok(['job', 'delete', jid]).catch(() => {});
  return { dump, restore };
}

async function main(): Promise<void> {
  await rm(SHM, { recursive: true, force: true });
  await mkdir(SHM, { recursive: true });
  const d = await TestDaemon.start({ CEDANA_CHECKPOINT_DIR: join(SHM, 'checkpoints'), CEDANA_LOG_LEVEL: 'warn' });
  try {
    const cliStart = median(await Promise.all([0, 1, 2].map(() => time(() => d.ok(['--version'])))));
    const results: Record<string, { dump: number[]; restore: number[] }> = {
      raw: { dump: [], restore: [] },
      none: { dump: [], restore: [] },
      lz4: { dump: [], restore: [] },
    };
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved, so drift of this noisy VM hits every variant alike.
      for (const [name, f] of [
        ['raw', () => rawRound(r)],
        ['none', () => cedanaRound(d, r, 'none')],
        ['lz4', () => cedanaRound(d, r, 'lz4')],
      ] as const) {
        const x = await f();
        results[name]?.dump.push(x.dump);
        results[name]?.restore.push(x.restore);
        process.stderr.write(`round ${r + 1}/${ROUNDS} ${name}: dump ${x.dump.toFixed(2)} s, restore ${x.restore.toFixed(2)} s\n`);
      }
    }
    const raw = results.raw as { dump: number[]; restore: number[] };
    console.log(
      `\n${MEM_MIB} MiB dirty memory, images on tmpfs, medians of ${ROUNDS} rounds (CLI start-up ${cliStart.toFixed(2)} s included in cedana's)`,
    );
    console.log('variant                      dump s   x raw   restore s   x raw');
    for (const [name, label] of [
      ['raw', 'raw criu dump/restore -d'],
      ['none', 'cedana, --compression none'],
      ['lz4', 'cedana, --compression lz4'],
    ] as const) {
      const x = results[name] as { dump: number[]; restore: number[] };
      const dm = median(x.dump);
      const rm_ = median(x.restore);
      console.log(
        `${label.padEnd(28)} ${dm.toFixed(2).padStart(6)}   ${(dm / median(raw.dump)).toFixed(2).padStart(5)}   ${rm_.toFixed(2).padStart(9)}   ${(rm_ / median(raw.restore)).toFixed(2).padStart(5)}`,
      );
    }
  } finally {
    await d.stop();
    await rm(SHM, { recursive: true, force: true });
  }
}

await main();
