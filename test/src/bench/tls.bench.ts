/**
 * Benchmark (not a test): what TLS costs a TCP daemon's clients, against plain TCP measured in
 * the same run, interleaved: `cedana ps` (a CLI start, one connection, one call) to a plain and
 * to a TLS daemon, and `cedana migrate job` of a job with MEM_MIB of dirty memory (each 4 KiB page
 * half random, half zeros) from a source daemon on its unix socket to each of them on loopback
 * TCP (jobs under --pid-ns, so no PID wait). The certificates are an EC P-256 CA and server
 * certificate made with openssl (harness/tls-certs.ts). Medians and spread (min-max).
 *
 *   node test/dist/bench/tls.bench.js     (RUNS=15 ROUNDS=3 MEM_MIB=256 by default)
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, waitFor } from '../harness/daemon.js';
import { makeCerts } from '../harness/tls-certs.js';
import { memoryHog } from './memory-hog.js';

const RUNS = Number(process.env.RUNS ?? 15);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const MEM_MIB = Number(process.env.MEM_MIB ?? 256);
const SHM = '/dev/shm/cedana-bench-tls';
const TOKEN = 'bench-token';
const HOG = memoryHog(MEM_MIB);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const spread = (xs: number[], digits: number) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

interface Times {
  downtimeMs: number;
  totalMs: number;
}

async function migrateOnce(src: TestDaemon, target: TestDaemon, jid: string): Promise<Times> {
  const flag = join(SHM, `${jid}.ready`);
  await src.ok(['run', 'process', '--pid-ns', '--jid', jid, '--env', 'UV_USE_IO_URING=0', '--', process.execPath, '-e', HOG, flag]);
  await waitFor('memory filled', () => (existsSync(flag) ? true : undefined), 120_000);
  const resp = await src.json<{ times: Times }>(['migrate', 'job', jid, '--to', target.socket, '--token', TOKEN]);
  await target.ok(['job', 'kill', jid]);
  await rm(flag, { force: true });
  return resp.times;
}

async function main(): Promise<void> {
  await rm(SHM, { recursive: true, force: true });
  await mkdir(SHM, { recursive: true });
  const certDir = await mkdtemp('/tmp/cedana-bench-tls-');
  const certs = await makeCerts(certDir);
  const quiet = { CEDANA_LOG_LEVEL: 'warn', CEDANA_AUTH_TOKEN: TOKEN, CEDANA_PROTOCOL: 'tcp' };
  const daemons: TestDaemon[] = [];
  try {
    const plain = await TestDaemon.start({ ...quiet, CEDANA_ADDRESS: '127.0.0.1:17841', CEDANA_MIGRATE_DIR: join(SHM, 'plain') });
    daemons.push(plain);
    const tls = await TestDaemon.start(
      { ...quiet, CEDANA_ADDRESS: '127.0.0.1:17842', CEDANA_TLS_CA: certs.ca, CEDANA_MIGRATE_DIR: join(SHM, 'tls') },
      ['--tls-cert', certs.cert, '--tls-key', certs.key],
    );
    daemons.push(tls);
    const srcPlain = await TestDaemon.start({ CEDANA_LOG_LEVEL: 'warn', CEDANA_MIGRATE_DIR: join(SHM, 'src-plain') });
    daemons.push(srcPlain);
    const srcTls = await TestDaemon.start({ CEDANA_LOG_LEVEL: 'warn', CEDANA_MIGRATE_DIR: join(SHM, 'src-tls'), CEDANA_TLS_CA: certs.ca });
    daemons.push(srcTls);

    const ps: Record<'plain' | 'tls', number[]> = { plain: [], tls: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const [name, d] of [
        ['plain', plain],
        ['tls', tls],
      ] as const) {
        const t = performance.now();
        await d.ok(['ps']);
        ps[name].push(performance.now() - t);
      }
    }
    const mig: Record<'plain' | 'tls', Times[]> = { plain: [], tls: [] };
    for (let r = 0; r < ROUNDS; r++) {
      mig.plain.push(await migrateOnce(srcPlain, plain, `plain-${r}`));
      mig.tls.push(await migrateOnce(srcTls, tls, `tls-${r}`));
      process.stderr.write(
        `round ${r + 1}/${ROUNDS}: plain total ${mig.plain[r]?.totalMs} ms, TLS total ${mig.tls[r]?.totalMs} ms (load ${loadavg()[0]?.toFixed(1)})\n`,
      );
    }

    console.log(
      `\nTLS against plain TCP, one run, interleaved; medians (min-max); load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    const psRatio = median(ps.tls) / median(ps.plain);
    console.log(
      `cedana ps, ${RUNS} runs each (ms):   plain ${spread(ps.plain, 0)}   TLS ${spread(ps.tls, 0)}   TLS/plain ${psRatio.toFixed(2)}`,
    );
    for (const k of ['downtimeMs', 'totalMs'] as const) {
      const p = mig.plain.map((t) => t[k] / 1000);
      const s = mig.tls.map((t) => t[k] / 1000);
      console.log(
        `migrate ${MEM_MIB} MiB, ${ROUNDS} rounds, ${k === 'totalMs' ? 'total   ' : 'downtime'} (s):   plain ${spread(p, 2)}   TLS ${spread(s, 2)}   TLS/plain ${(median(s) / median(p)).toFixed(2)}`,
      );
    }
  } finally {
    for (const d of daemons.reverse()) await d.stop();
    await rm(SHM, { recursive: true, force: true });
    await rm(certDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
