/**
 * Which version `cedana plugin install NAME` and `plugin update` pick from a registry, and
 * what an upgrade keeps (issue 14): the newest version made for this host, not `latest`; an
 * engine refusal names the versions that would fit; an upgrade the daemon cannot load is
 * rolled back to the version before, without the registry; a failed install says why once,
 * about the folder it would have had.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDaemon } from '../harness/daemon.js';
import { writePluginPackage } from '../harness/plugin-package.js';
import { TestRegistry } from '../harness/registry.js';

const FEATURES = '{ KillSignal: "SIGTERM" }';

describe('plugin versions from a registry', () => {
  let registry: TestRegistry;
  let d: TestDaemon;
  let work: string;
  let pluginsDir: string;
  const cli = (args: string[]) => d.cli([...args, '--registry', registry.url]);
  const publish = async (version: string, extra: { engines?: string; entry?: string } = {}, tag?: string) =>
    registry.publish(await writePluginPackage(work, { plugin: 'pick', version, features: FEATURES, ...extra }), tag);
  const versionsOnDisk = async () => (await readdir(join(pluginsDir, 'pick'))).filter((v) => !v.startsWith('.')).sort();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'cedana-plugin-versions-'));
    pluginsDir = join(work, 'plugins');
    registry = await TestRegistry.start();
    await publish('1.0.0');
    await publish('2.0.0', { engines: '>=5.0.0' }); // newer, and `latest`, but not for this cedana
    d = await TestDaemon.start({ CEDANA_PLUGINS_DIR: pluginsDir });
  });
  after(async () => {
    await d?.stop();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('install NAME picks the newest version made for this cedana, not latest', async () => {
    const r = await cli(['plugin', 'install', 'cedana-plugin-pick']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /installed pick 1\.0\.0 \(cedana-plugin-pick\)/);
  });

  it('an engine refusal names the versions that would fit', async () => {
    const r = await cli(['plugin', 'install', 'cedana-plugin-pick@2']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /CEDANA_ERR_PLUGIN_ENGINE\]: .*cedana-plugin-pick@2\.0\.0 works with cedana >=5\.0\.0, this is cedana \S+; versions made for this cedana: 1\.0\.0/,
    );
    assert.match(r.stderr, /hint: install one of those: `cedana plugin install cedana-plugin-pick@1\.0\.0`/);
  });

  it('update moves to the newest compatible version and drops the old one once the daemon loaded it', async () => {
    await publish('1.1.0', {}, 'maintenance');
    const r = await cli(['plugin', 'update', 'pick']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /upgraded pick 1\.0\.0 -> 1\.1\.0/);
    assert.match(r.stderr, /daemon: pick 1\.1\.0 loaded/);
    assert.deepEqual(await versionsOnDisk(), ['1.1.0']);
  });

  it('an upgrade the daemon cannot load is rolled back to the version before, without the registry', async () => {
    // Loads in the CLI's test load, fails in the daemon (whose command line is `daemon start`).
    await publish(
      '1.2.0',
      {
        entry: `if (process.argv.includes('daemon')) throw new Error('needs a GPU in the daemon');\nexport default { name: 'pick', version: '1.2.0', features: ${FEATURES} };\n`,
      },
      'maintenance',
    );
    const r = await cli(['plugin', 'update', 'pick']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /daemon: pick 1\.2\.0 failed to load: .*needs a GPU in the daemon/);
    assert.match(r.stderr, /rolled pick back to 1\.1\.0, the version installed before \(1\.2\.0 is removed\)/);
    assert.match(r.stderr, /daemon: pick 1\.1\.0 loaded/);
    assert.deepEqual(await versionsOnDisk(), ['1.1.0']);
    const record = JSON.parse(await readFile(join(pluginsDir, 'installed.json'), 'utf8')).plugins.pick;
    assert.equal(record.version, '1.1.0');
    await registry.stop(); // the way back needed no registry; nothing below uses it
    const features = await d.json<{ plugins: { name: string; version: string; status: string }[] }>(['features']);
    assert.deepEqual(
      features.plugins.filter((p) => p.name === 'pick').map((p) => [p.version, p.status]),
      [['1.1.0', 'ok']],
    );
  });

  it('a failed install says why once, naming the folder it would have had, not a deleted staging one', async () => {
    const folder = await writePluginPackage(work, { plugin: 'brk', entry: 'throw new Error("kaput");\n' });
    const r = await d.cli(['plugin', 'install', folder]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `cannot install ${folder}: cedana-plugin-brk@1\\.0\\.0 failed to load \\(import\\), so nothing was installed: import of ${join(pluginsDir, 'brk/1.0.0/index.js')} threw: kaput`,
      ),
    );
    assert.doesNotMatch(r.stderr, /\.staging|was not installed/);
    assert.match(r.stderr, /hint: report the error to its author; --force installs it anyway/);
  });
});
