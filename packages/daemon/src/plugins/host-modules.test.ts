import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostPackageRoots, provideHostModules } from './host-modules.js';
import { checkPluginPackage, loadPlugins } from './loader.js';

describe('the host provides @cedana/plugin-sdk to plugins', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-host-modules-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('links node_modules/@cedana/{plugin-sdk,core} of the plugins dir to the host’s own copies, and mends a stale link', async () => {
    const roots = await hostPackageRoots();
    await mkdir(join(root, 'node_modules', '@cedana'), { recursive: true });
    await symlink('/nowhere', join(root, 'node_modules', '@cedana', 'core'));
    await provideHostModules(root);
    for (const name of ['@cedana/plugin-sdk', '@cedana/core']) {
      assert.equal(await readlink(join(root, 'node_modules', name)), roots.get(name));
    }
  });

  it('lets a plugin that is not a dependency-installed package import the SDK, and node_modules is not a plugin', async () => {
    const dir = join(root, 'sdkuser', '1.0.0');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'cedana-plugin-sdkuser', version: '1.0.0', type: 'module', cedana: { plugin: 'sdkuser', engines: '*' } }),
    );
    await writeFile(
      join(dir, 'index.js'),
      'import { definePlugin, CedanaError } from "@cedana/plugin-sdk";\nexport default definePlugin({ name: "sdkuser", version: "1.0.0", features: { KillSignal: new CedanaError("CEDANA_ERR_INTERNAL", "x").code } });\n',
    );
    const loaded = await loadPlugins(root);
    assert.deepEqual(
      loaded.map((p) => [p.name, p.status, p.error?.message]),
      [['sdkuser', 'ok', undefined]],
    );
  });

  it('install-time checks refuse a package that needs another SDK than the host’s', () => {
    const pkg = { name: 'x', version: '1.0.0', cedana: { plugin: 'x', engines: '*' }, peerDependencies: { '@cedana/plugin-sdk': '>=99' } };
    assert.throws(() => checkPluginPackage(pkg), { code: 'CEDANA_ERR_PLUGIN_ENGINE', message: /needs @cedana\/plugin-sdk >=99/ });
    assert.throws(() => checkPluginPackage({ name: 'y', version: '1.0.0' }), { code: 'CEDANA_ERR_PLUGIN_MANIFEST' });
    assert.throws(() => checkPluginPackage({ name: 'z', cedana: { plugin: 'node_modules', engines: '*' } }), {
      code: 'CEDANA_ERR_PLUGIN_MANIFEST',
    });
    checkPluginPackage({
      name: 'ok',
      version: '1.0.0',
      cedana: { plugin: 'ok', engines: '*' },
      peerDependencies: { '@cedana/plugin-sdk': 'workspace:^' },
    });
  });
});
