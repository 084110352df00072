/**
 * The path a user takes: a real npm registry (Verdaccio on loopback) holding the
 * first-party plugins and the example third-party plugin, `cedana plugin install
 * --registry URL`, update to a newer release, and a registry that is down or hangs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TestDaemon } from '../harness/daemon.js';
import { CATALOG, catalogPackageAs, ROOT, writePluginPackage } from '../harness/plugin-package.js';
import { blackHole, closedPort, TestRegistry } from '../harness/registry.js';

const run = promisify(execFile);
const EXAMPLE = join(ROOT, 'examples/plugin-tag');

interface Row {
  plugin: string;
  status: string;
  installed?: string;
  latest?: string;
  type: string;
  load?: string;
  source?: string;
}

describe('plugin install from a registry', () => {
  let registry: TestRegistry;
  let d: TestDaemon;
  let work: string;
  let pluginsDir: string;
  let exampleTgz: string;
  const cli = (args: string[]) => d.cli([...args, '--registry', registry.url]);
  const ok = async (args: string[]) => {
    const r = await cli(args);
    assert.equal(r.code, 0, `cedana ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const rows = async () => JSON.parse((await ok(['plugin', 'list', '--json'])).stdout) as Row[];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'cedana-plugin-registry-'));
    pluginsDir = join(work, 'plugins');
    registry = await TestRegistry.start();
    // What the registry holds: the first-party plugins (the catalog's tarballs), the example
    // plugin (packed as its author would), and its dependency picocolors (as npm installed it here).
    const catalog = JSON.parse(await readFile(join(CATALOG, 'catalog.json'), 'utf8')) as { plugins: { file: string }[] };
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', work], { cwd: EXAMPLE });
    exampleTgz = stdout.trim().split('\n').at(-1) as string;
    await Promise.all([
      ...catalog.plugins.map((p) => registry.publish(join(CATALOG, p.file))),
      registry.publish(exampleTgz),
      registry.publish(await realpath(join(EXAMPLE, 'node_modules/picocolors'))),
    ]);
    d = await TestDaemon.start({ CEDANA_PLUGINS_DIR: pluginsDir });
  });
  after(async () => {
    await d?.stop();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('installs a first-party plugin by its short name from the registry, with its integrity', async () => {
    const r = await ok(['plugin', 'install', 'criu']);
    assert.match(r.stdout, new RegExp(`installed criu \\S+ \\(@cedana/plugin-criu\\) from ${registry.url}`));
    assert.match(r.stderr, /daemon: criu \S+ loaded/);
    const record = JSON.parse(await readFile(join(pluginsDir, 'installed.json'), 'utf8')).plugins.criu;
    assert.equal(record.source, 'registry');
    assert.ok(record.resolved.startsWith(`${registry.url}/@cedana/plugin-criu/-/plugin-criu-`), record.resolved);
    assert.match(record.integrity, /^sha512-/);
  });

  it('installs the example third-party plugin with its runtime dependency, and its commands appear', async () => {
    const r = await ok(['plugin', 'install', 'cedana-plugin-tag@^1']);
    assert.match(r.stdout, /installed tag 1\.0\.0 \(cedana-plugin-tag\)/);
    assert.deepEqual(await readdir(join(pluginsDir, 'tag/1.0.0/node_modules')).then((e) => e.filter((n) => !n.startsWith('.'))), [
      'picocolors',
    ]);
    const info = JSON.parse(await d.ok(['plugin', 'inspect', 'tag', '--json'])) as {
      dependencies: { name: string; version: string }[];
      features: { symbol: string }[];
      source: string;
    };
    assert.deepEqual(
      info.dependencies.map((x) => x.name),
      ['picocolors'],
    );
    assert.deepEqual(info.features.map((f) => f.symbol).sort(), ['DumpCmd', 'DumpMiddleware', 'HelperCmds']);
    assert.match(await d.ok(['--help']), /tag-show <checkpoint>/);

    // the plugin at work in the daemon that was running all along: a real dump, labelled
    await d.ok(['run', 'process', '--jid', 'sleeper', '--', 'sleep', '300']);
    const pid = (await d.json<{ jid: string; state: { pid: number } }[]>(['ps'])).find((j) => j.jid === 'sleeper')?.state.pid;
    const out = await d.ok(['dump', 'tag', '--pid', String(pid), '--label', 'from-registry', '--compression', 'none', '--dir', work]);
    const path = /dumped tag to (\S+) /.exec(out)?.[1] as string;
    assert.match(await d.ok(['tag-show', path]), /from-registry/);
  });

  it('installs from a tarball and from a folder too', async () => {
    let r = await ok(['plugin', 'install', exampleTgz, '--force']);
    assert.match(r.stdout, new RegExp(`reinstalled tag 1\\.0\\.0 \\(cedana-plugin-tag\\) from ${exampleTgz.replaceAll('.', '\\.')}`));
    r = await ok(['plugin', 'install', EXAMPLE, '--force']);
    assert.match(r.stdout, /reinstalled tag 1\.0\.0 \(cedana-plugin-tag\) from .*examples\/plugin-tag/);
    const record = JSON.parse(await readFile(join(pluginsDir, 'installed.json'), 'utf8')).plugins.tag;
    assert.equal(record.source, 'directory');
  });

  it('shows a newer release as outdated and updates to it; the daemon loads it from its new folder', async () => {
    await registry.publish(await catalogPackageAs('criu', '0.99.0', work));
    const criu = (await rows()).find((x) => x.plugin === 'criu');
    assert.equal(criu?.status, 'outdated');
    assert.equal(criu?.latest, '0.99.0');
    const r = await ok(['plugin', 'update']);
    assert.match(r.stdout, /upgraded criu \S+ -> 0\.99\.0/);
    assert.match(r.stdout, /tag 1\.0\.0: installed from .*; install a newer file to update it/);
    assert.match(r.stderr, /daemon: criu 0\.99\.0 loaded/);
    assert.deepEqual(await readdir(join(pluginsDir, 'criu')), ['0.99.0']);
    assert.equal((await rows()).find((x) => x.plugin === 'criu')?.status, 'installed');
    assert.match((await ok(['plugin', 'update', 'criu'])).stdout, /criu 0\.99\.0: up to date/);
  });

  it('refuses an unknown name, a package that is not a plugin, and a plugin for another host', async () => {
    let r = await cli(['plugin', 'install', 'no-such-plugin']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_NOT_FOUND.*no-such-plugin/);

    r = await cli(['plugin', 'install', 'picocolors']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_MANIFEST.*picocolors is not a cedana plugin/);

    await registry.publish(await writePluginPackage(work, { plugin: 'future', engines: '^9.0.0' }));
    r = await cli(['plugin', 'install', 'cedana-plugin-future']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_ENGINE.*works with cedana \^9\.0\.0, this is cedana/);
    assert.deepEqual((await readdir(pluginsDir)).filter((n) => !n.startsWith('.')).sort(), [
      'criu',
      'installed.json',
      'node_modules',
      'tag',
    ]);
  });

  it('says so when the registry is down, and when it does not answer in time', async () => {
    const down = await closedPort();
    let r = await d.cli(['plugin', 'install', 'runc', '--registry', down]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_REGISTRY_UNREACHABLE.*ECONNREFUSED/);

    const hole = await blackHole();
    try {
      const started = Date.now();
      r = await d.cli(['plugin', 'install', 'runc', '--registry', hole.url, '--fetch-timeout', '1']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /CEDANA_ERR_REGISTRY_UNREACHABLE/);
      assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
    } finally {
      await hole.close();
    }
    await d.ok(['ps']); // the daemon never noticed
  });

  it('removes the example plugin, and its commands go with it', async () => {
    const r = await d.cli(['plugin', 'remove', 'tag']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /daemon: tag unloaded/);
    assert.equal((await d.cli(['tag-show', work])).code, 2);
    assert.equal((await d.cli(['dump', 'tag', '--pid', '1', '--label', 'x'])).code, 2);
  });
});
