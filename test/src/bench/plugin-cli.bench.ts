/**
 * CLI cold start with 0 plugins, 6 small ones and the 7 first-party ones installed, against `node -e 0` interleaved in the same
 * run (from the startup snapshot and from main.js), and the time of `cedana plugin install criu`
 * from the local catalog and from a registry on loopback. Median of RUNS (21) runs each.
 * Run: node test/dist/bench/plugin-cli.bench.js
 */
import { execFile, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, LAUNCHER, TestDaemon } from '../harness/daemon.js';
import { CATALOG, ROOT } from '../harness/plugin-package.js';
import { TestRegistry } from '../harness/registry.js';

const RUNS = Number(process.env.RUNS ?? 21);
const run = promisify(execFile);

/**
 * One run's wall time and CPU time (user + sys of the command, from sh's `times`, in clock ticks
 * of 10 ms: the mean of many is what to read). A machine loaded by other work stretches wall time
 * far more than CPU time. sh's own start is in every wall time alike, `node -e 0`'s included.
 */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): { wall: number; cpu: number } {
  const started = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', '"$@" >/dev/null 2>&1 </dev/null; times', 'sh', cmd, ...args], { env, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  const children = (r.stdout.trim().split('\n')[1] ?? '').match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
  const cpu = children
    ? (Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4])) * 1000
    : Number.NaN;
  return { wall, cpu };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** The issue's targets for a start, as a multiple of `node -e 0` in the same run (MISSED: by wall time and by CPU time). */
const TARGETS: Record<string, number> = { 'cedana ps': 1.3, 'cedana dump --help': 1.5, 'cedana features': 1.5, 'cedana plugin list': 1.5 };

/**
 * Each command line RUNS times, interleaved with `node -e 0` (a loaded machine slows them
 * alike), through the launcher (`cedana`, the startup snapshot) and through main.js: the
 * median, its ratio to node's, and the spread.
 */
async function coldStarts(label: string, env: NodeJS.ProcessEnv): Promise<void> {
  const lines: [string, string[]][] = [['--version'], ['ps'], ['dump', '--help'], ['features'], ['plugin', 'list']].map((a) => [
    `cedana ${a.join(' ')}`,
    a,
  ]);
  const cases: [string, string, string[]][] = [
    ['node -e 0', process.execPath, ['-e', '0']],
    ...lines.map(([name, a]): [string, string, string[]] => [name, LAUNCHER, a]),
    ...lines.map(([name, a]): [string, string, string[]] => [`${name} (main.js)`, process.execPath, [CLI, ...a]]),
  ];
  const ms = cases.map((): number[] => []);
  const cpu = cases.map((): number[] => []);
  for (let r = 0; r < RUNS; r++) {
    for (const [i, [, cmd, args]] of cases.entries()) {
      const t = timed(cmd, args, env);
      ms[i]?.push(t.wall);
      cpu[i]?.push(t.cpu);
    }
  }
  const node = median(ms[0] as number[]);
  const nodeCpu = mean(cpu[0] as number[]);
  for (const [i, [name]] of cases.entries()) {
    const xs = ms[i] as number[];
    const ratio = median(xs) / node;
    const cpuRatio = mean(cpu[i] as number[]) / nodeCpu;
    const target = TARGETS[name];
    console.log(
      `${label.padEnd(12)} ${name.padEnd(32)} median ${median(xs).toFixed(0).padStart(4)} ms  ${ratio.toFixed(2)}x node` +
        `  (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})` +
        `  cpu mean ${mean(cpu[i] as number[])
          .toFixed(0)
          .padStart(4)} ms  ${cpuRatio.toFixed(2)}x` +
        `${target ? `  target <= ${target}x${Math.min(ratio, cpuRatio) <= target ? '' : ' MISSED'}` : ''}`,
    );
  }
}

async function installs(label: string, d: TestDaemon, extra: string[]): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 5); i++) {
    const dir = await mkdtemp(join(tmpdir(), 'cedana-bench-plugins-'));
    const env = { ...d.env, CEDANA_PLUGINS_DIR: dir };
    const started = process.hrtime.bigint();
    await run(process.execPath, [CLI, 'plugin', 'install', 'criu', ...extra], { env }); // async: the registry runs in this process
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`install criu from ${label.padEnd(9)} median ${median(ms).toFixed(0)} ms  (min ${Math.min(...ms).toFixed(0)})`);
}

const work = await mkdtemp(join(tmpdir(), 'cedana-bench-'));
const pluginsDir = join(work, 'plugins');
const d = await TestDaemon.start({ CEDANA_PLUGINS_DIR: pluginsDir, CEDANA_LOG_LEVEL: 'warn' });
const registry = await TestRegistry.start();
try {
  await coldStarts('0 plugins', d.env);

  // 6 plugins: criu, runc, the example, and three more copies of criu under other names
  await run(process.execPath, [CLI, 'plugin', 'install', 'criu', 'runc', join(ROOT, 'examples/plugin-tag')], { env: d.env });
  const criuDir = join(
    pluginsDir,
    'criu',
    (await readFile(join(pluginsDir, 'installed.json'), 'utf8')).match(/"criu":\s*{[^}]*"version": "([^"]+)"/)?.[1] ?? '',
  );
  for (const n of [2, 3, 4]) {
    const dest = join(pluginsDir, `criu${n}`, '1.0.0');
    await cp(criuDir, dest, { recursive: true });
    const pkg = JSON.parse(await readFile(join(dest, 'package.json'), 'utf8'));
    await writeFile(
      join(dest, 'package.json'),
      JSON.stringify({ ...pkg, version: '1.0.0', cedana: { ...pkg.cedana, plugin: `criu${n}` } }),
    );
    const entry = join(dest, 'dist/index.js');
    await writeFile(entry, (await readFile(entry, 'utf8')).replace("name: 'criu'", `name: 'criu${n}'`));
  }
  const loaded = JSON.parse((await run(process.execPath, [CLI, 'features', '--json'], { env: d.env })).stdout) as {
    plugins: { status: string }[];
  };
  console.log(`installed: ${loaded.plugins.length} plugins, ${loaded.plugins.filter((p) => p.status === 'ok').length} load`);
  await coldStarts('6 plugins', d.env);

  // The seven first-party plugins (containerd's and storage-s3's node_modules are thousands of files), in a folder of their own.
  const realEnv = { ...d.env, CEDANA_PLUGINS_DIR: join(work, 'real-plugins') };
  await run(process.execPath, [CLI, 'plugin', 'install', 'criu', 'runc', 'containerd', 'gpu', 'kata', 'streamer', 'storage-s3'], {
    env: realEnv,
  });
  await run(process.execPath, [CLI, 'features', '--json'], { env: realEnv }); // a first full load, as for the 6 above
  await coldStarts('7 real', realEnv);

  await installs('catalog', d, ['--registry', '']);
  const catalog = JSON.parse(await readFile(join(CATALOG, 'catalog.json'), 'utf8')) as { plugins: { file: string }[] };
  for (const p of catalog.plugins) await registry.publish(join(CATALOG, p.file));
  await installs('registry', d, ['--registry', registry.url]);
} finally {
  await registry.stop();
  await d.stop();
  await rm(work, { recursive: true, force: true });
}
