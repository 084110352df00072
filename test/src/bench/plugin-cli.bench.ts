/**
 * CLI cold start with 0 and 6 plugins installed, against `node -e 0` in the same run, and
 * the time of `cedana plugin install criu` from the local catalog and from a registry on
 * loopback. Median of RUNS runs each. Run: node test/dist/bench/plugin-cli.bench.js
 */
import { execFile, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, TestDaemon } from '../harness/daemon.js';
import { CATALOG, ROOT } from '../harness/plugin-package.js';
import { TestRegistry } from '../harness/registry.js';

const RUNS = Number(process.env.RUNS ?? 10);
const run = promisify(execFile);

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  spawnSync(cmd, args, { env, stdio: 'ignore' });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function coldStarts(label: string, d: TestDaemon): Promise<void> {
  const cases: [string, string, string[]][] = [
    ['node -e 0', process.execPath, ['-e', '0']],
    ['cedana --version', process.execPath, [CLI, '--version']],
    ['cedana ps', process.execPath, [CLI, 'ps']],
    ['cedana features', process.execPath, [CLI, 'features']],
  ];
  for (const [name, cmd, args] of cases) {
    const ms = Array.from({ length: RUNS }, () => time(cmd, args, d.env));
    console.log(
      `${label.padEnd(12)} ${name.padEnd(18)} median ${median(ms).toFixed(0).padStart(4)} ms  (min ${Math.min(...ms).toFixed(0)})`,
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
  await coldStarts('0 plugins', d);

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
  await coldStarts('6 plugins', d);

  await installs('catalog', d, ['--registry', '']);
  const catalog = JSON.parse(await readFile(join(CATALOG, 'catalog.json'), 'utf8')) as { plugins: { file: string }[] };
  for (const p of catalog.plugins) await registry.publish(join(CATALOG, p.file));
  await installs('registry', d, ['--registry', registry.url]);
} finally {
  await registry.stop();
  await d.stop();
  await rm(work, { recursive: true, force: true });
}
