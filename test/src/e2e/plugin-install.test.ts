/**
 * `cedana plugin install|list|remove` from the local catalog (no registry, no network),
 * from folders and tarballs, against a running daemon that picks up every change
 * without a restart; and the bad inputs: each refused with a clear error, the daemon
 * serving on.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, TestDaemon, waitFor } from '../harness/daemon.js';
import { CATALOG, catalogPackageAs, npmPack, writePluginPackage } from '../harness/plugin-package.js';
import { blackHole } from '../harness/registry.js';

/** The plugins' description the CLI keeps in the plugins folder (packages/cli/src/plugins/described.ts). */
const DESCRIBED_FILE = '.described.json';

interface Row {
  plugin: string;
  status: string;
  installed?: string;
  latest?: string;
  type: string;
  load?: string;
  size?: number;
}

describe('plugin install from the local catalog', () => {
  let d: TestDaemon;
  let work: string;
  let pluginsDir: string;
  const row = async (plugin: string) => (await d.json<Row[]>(['plugin', 'list'])).find((r) => r.plugin === plugin);
  const runSleeper = async (jid: string) => {
    await d.ok(['run', 'process', '--jid', jid, '--', 'sleep', '300']);
    return jid;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'cedana-plugin-install-'));
    pluginsDir = join(work, 'plugins');
    d = await TestDaemon.start({ CEDANA_PLUGINS_DIR: pluginsDir, CEDANA_PLUGINS_REGISTRY: '' });
  });
  after(async () => {
    await d.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('lists the first-party plugins of the catalog as available before anything is installed', async () => {
    const criu = await row('criu');
    assert.deepEqual([criu?.status, criu?.type, criu?.installed], ['available', 'supported', undefined]);
    assert.match(criu?.latest ?? '', /^\d+\.\d+\.\d+/);
    assert.equal((await row('kata'))?.type, 'experimental');
  });

  it('installs criu with no registry, records it, and the running daemon uses it at once', async () => {
    await runSleeper('before');
    const refused = await d.cli(['dump', 'job', 'before', '--leave-running']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /CEDANA_ERR_ROLE_MISSING/);
    assert.match(refused.stderr, /"engine" role.*\n.*cedana plugin install criu/, 'names the role and the plugin that fills it');

    const r = await d.cli(['plugin', 'install', 'criu']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /installed criu \S+ \(@cedana\/plugin-criu\) from the local catalog/);
    assert.match(r.stderr, /daemon: criu \S+ loaded/);
    const record = JSON.parse(await readFile(join(pluginsDir, 'installed.json'), 'utf8')).plugins.criu;
    assert.equal(record.name, '@cedana/plugin-criu');
    assert.equal(record.source, 'catalog');
    assert.match(record.resolved, /cedana-plugin-criu-.*\.tgz$/);
    assert.match(record.integrity, /^sha512-/);
    assert.ok(Date.parse(record.installedAt) > Date.now() - 60_000);
    assert.deepEqual(await readdir(join(pluginsDir, 'criu')), [record.version]);
    assert.ok(record.size > 10_000, `the record keeps the size of the version folder, found ${record.size}`);
    assert.equal((await row('criu'))?.size, record.size, 'plugin list shows the size summed at install time');

    await d.ok(['dump', 'job', 'before', '--leave-running', '--dir', join(work, 'ckpt')]);
    assert.equal((await row('criu'))?.status, 'installed');
    assert.match((await d.cli(['plugin', 'install', 'criu'])).stdout, /already installed/);
  });

  it('refuses to remove a plugin that a running job needs, and says which job', async () => {
    const r = await d.cli(['plugin', 'remove', 'criu']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_IN_USE/);
    assert.match(r.stderr, /job before \(process, PID \d+\)/);
    assert.match(r.stderr, /--force/);
    assert.equal((await row('criu'))?.status, 'installed');
  });

  it('refuses a tarball whose content does not match the catalog’s integrity, and keeps what was installed', async () => {
    const bad = join(work, 'bad-catalog');
    await cp(CATALOG, bad, { recursive: true });
    const catalog = JSON.parse(await readFile(join(bad, 'catalog.json'), 'utf8')) as {
      plugins: { plugin: string; file: string; version: string }[];
    };
    const criu = catalog.plugins.find((p) => p.plugin === 'criu');
    assert.ok(criu);
    const impostor = await writePluginPackage(work, { plugin: 'criu', name: '@cedana/plugin-criu', version: criu.version });
    await cp(await npmPack(impostor, join(work, 'impostor')), join(bad, criu.file));
    const before = await readFile(join(pluginsDir, 'installed.json'), 'utf8');
    const r = await d.cli(['plugin', 'install', 'criu', '--force'], { env: { CEDANA_PLUGINS_CATALOG: bad } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_INTEGRITY/);
    assert.equal(await readFile(join(pluginsDir, 'installed.json'), 'utf8'), before);
    assert.equal((await row('criu'))?.load, 'ok');
  });

  it('an install killed half way leaves the previous version loading, and the next install recovers', async () => {
    const hole = await blackHole();
    try {
      // criu 9.9.9 with a dependency that only a registry that never answers "has"
      const next = await catalogPackageAs('criu', '9.9.9', work, { dependencies: { 'left-pad': '1.3.0' } });
      const child: ChildProcess = spawn(process.execPath, [CLI, 'plugin', 'install', next, '--registry', hole.url], {
        env: d.env,
        stdio: 'ignore',
        detached: true,
      });
      await waitFor('npm to be installing', async () => {
        const staged = await readdir(join(pluginsDir, '.staging')).catch(() => [] as string[]);
        for (const s of staged)
          if ((await readdir(join(pluginsDir, '.staging', s)).catch(() => [] as string[])).includes('deps')) return true;
        return undefined;
      });
      process.kill(-(child.pid as number), 'SIGKILL'); // the CLI and its npm, mid-install
      const criu = await row('criu');
      assert.notEqual(criu?.installed, '9.9.9');
      assert.equal(criu?.load, 'ok');
      await d.ok(['ps']);
      await d.ok(['plugin', 'install', 'criu', '--force']); // takes over the dead command's lock, clears its staging
      // Nothing of the dead command is left; .described.json is what `plugin list` keeps of the plugins.
      assert.deepEqual(await readdir(pluginsDir).then((e) => e.filter((n) => n.startsWith('.') && n !== DESCRIBED_FILE)), []);
    } finally {
      await hole.close();
    }
  });

  it('refuses packages that are not cedana plugins or not made for this host, with the reason', async () => {
    const plain = await writePluginPackage(work, { plugin: 'plain', cedana: false });
    let r = await d.cli(['plugin', 'install', plain]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_MANIFEST.*is not a cedana plugin/);

    const future = await writePluginPackage(work, { plugin: 'future', engines: '>=99.0.0' });
    r = await d.cli(['plugin', 'install', future]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_ENGINE.*works with cedana >=99\.0\.0, this is cedana/);
    assert.equal((await row('future'))?.installed, undefined);

    r = await d.cli(['plugin', 'install', 'no-such-plugin']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_NOT_FOUND.*no-such-plugin/);
  });

  it('runs a plugin’s install scripts only with --allow-scripts', async () => {
    const scripted = await writePluginPackage(work, { plugin: 'scripted', scripts: { postinstall: 'touch postinstall-ran' } });
    const ran = join(pluginsDir, 'scripted', '1.0.0', 'postinstall-ran');
    await d.ok(['plugin', 'install', scripted]);
    assert.equal(existsSync(ran), false);
    await d.ok(['plugin', 'install', scripted, '--force', '--allow-scripts']);
    assert.equal(existsSync(ran), true);
    await d.ok(['plugin', 'remove', 'scripted']);
  });

  it('refuses a plugin that throws on import unless --force; then features --errors names it and the daemon serves on', async () => {
    const throws = await writePluginPackage(work, { plugin: 'throws', entry: 'throw new Error("kaboom at import");\n' });
    let r = await d.cli(['plugin', 'install', throws]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_IMPORT.*kaboom at import/);
    assert.match(r.stderr, /--force installs it anyway/);

    r = await d.cli(['plugin', 'install', throws, '--force']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /daemon: throws 1\.0\.0 failed to load: \[CEDANA_ERR_PLUGIN_IMPORT\]/);
    r = await d.cli(['features', '--errors']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /throws \(import\) \[CEDANA_ERR_PLUGIN_IMPORT\].*kaboom at import/);
    await d.ok(['ps']);
    await d.ok(['plugin', 'remove', 'throws']);
  });

  it('installs a plain-JS plugin from a tarball; a feature of the wrong shape is flagged, the rest works', async () => {
    const shapes = await writePluginPackage(work, { plugin: 'shapes', features: '{ DumpCmd: 42, KillSignal: "SIGTERM" }' });
    const tgz = await npmPack(shapes, join(work, 'tarballs'));
    const r = await d.cli(['plugin', 'install', tgz]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: plugin "shapes" exports DumpCmd as a number \(42\), expected an object/);
    const errors = await d.cli(['features', 'shapes', '--errors']);
    assert.equal(errors.code, 1);
    assert.match(errors.stdout, /DumpCmd/);
    const matrix = await d.json<{ exports: { plugin: string; symbol: string; state: string }[] }>(['features', 'shapes']);
    assert.deepEqual(
      matrix.exports.map((e) => [e.symbol, e.state]),
      [
        ['DumpCmd', 'incompatible'],
        ['KillSignal', 'exported'],
      ],
    );
    assert.equal((await d.cli(['dump', 'shapes'])).code, 2, 'a wrong-shaped DumpCmd adds no command');
    await d.ok(['plugin', 'remove', 'shapes']);
  });

  it('a plugin that throws inside a handler fails that request, named; other requests and plugins go on', async () => {
    const boom = await writePluginPackage(work, {
      plugin: 'boom',
      features: `{
        DumpCmd: { describe: 'dump and fail', options: { pid: { type: 'number', describe: 'PID' } }, details: (a) => ({ pid: a.pid }) },
        DumpMiddleware: [(next) => async function explode() { throw new Error('kaboom in the middleware'); }],
      }`,
    });
    await d.ok(['plugin', 'install', boom]);
    const r = await d.cli(['dump', 'boom', '--pid', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_FAILED.*plugin "boom" failed in DumpMiddleware: kaboom in the middleware/);
    await d.ok(['dump', 'job', 'before', '--leave-running', '--dir', join(work, 'ckpt')]); // criu still serves
    await d.ok(['plugin', 'remove', 'boom']);
    assert.equal((await d.cli(['dump', 'boom', '--pid', '1'])).code, 2, '`dump boom` went with the plugin');
  });

  it('removes a plugin once no job needs it; the daemon unloads it at once', async () => {
    await d.ok(['job', 'kill', 'before']);
    await waitFor('the job to exit', async () =>
      (await d.json<{ jid: string; state: { status: string } }[]>(['ps'])).find((j) => j.jid === 'before')?.state.status === 'running'
        ? undefined
        : true,
    );
    const r = await d.cli(['plugin', 'remove', 'criu']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /removed criu/);
    assert.match(r.stderr, /daemon: criu unloaded/);
    assert.equal((await row('criu'))?.status, 'available');
    await runSleeper('after');
    assert.match((await d.cli(['dump', 'job', 'after'])).stderr, /CEDANA_ERR_ROLE_MISSING/);
    assert.deepEqual(JSON.parse(await readFile(join(pluginsDir, 'installed.json'), 'utf8')).plugins, {});
  });
});
