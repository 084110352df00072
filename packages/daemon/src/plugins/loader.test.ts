import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CedanaError, HOST_VERSION, isCedanaError, type LoadedPlugin } from '@cedana/core';
import { loadPlugin, loadPlugins } from './loader.js';

interface FixtureOptions {
  version?: string;
  /** package.json fields; `cedana` defaults to `{ plugin: name, engines: '*' }`, null drops it. */
  pkg?: Record<string, unknown>;
  cedana?: Record<string, unknown> | null;
  /** Entry file source; null writes no entry. */
  entry?: string | null;
  entryFile?: string;
}

/** A plain-JS plugin of the given name, as the SDK's definePlugin would produce. */
const goodEntry = (name: string, version = '1.0.0') =>
  `export default { name: ${JSON.stringify(name)}, version: ${JSON.stringify(version)}, features: { KillSignal: 'SIGTERM' } };\n`;

/** Writes `<root>/<name>/<version>/` with a package.json and an ESM entry. */
async function writePlugin(root: string, name: string, opts: FixtureOptions = {}): Promise<string> {
  const version = opts.version ?? '1.0.0';
  const dir = join(root, name, version);
  await mkdir(dir, { recursive: true });
  const entryFile = opts.entryFile ?? 'index.js';
  const pkg: Record<string, unknown> = { name: `cedana-plugin-${name}`, version, type: 'module', main: entryFile, ...opts.pkg };
  if (opts.cedana !== null) pkg.cedana = opts.cedana ?? { plugin: name, engines: '*' };
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkg));
  if (opts.entry !== null) {
    await mkdir(dirname(join(dir, entryFile)), { recursive: true });
    await writeFile(join(dir, entryFile), opts.entry ?? goodEntry(name, version));
  }
  return dir;
}

function assertFailed(p: LoadedPlugin, phase: LoadedPlugin['phase'], code: string, message?: RegExp): void {
  assert.equal(p.status, 'error', `expected ${p.name} to fail`);
  assert.equal(p.phase, phase);
  assert.equal(p.error?.code, code);
  assert.equal(p.definition, undefined);
  assert.match(p.error?.message ?? '', new RegExp(`plugin "${p.name}"`));
  if (message) assert.match(p.error?.message ?? '', message);
}

describe('loadPlugin', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-loader-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('gh-13: refuses an entry ("main") outside the plugin folder, without importing it', async () => {
    // A good plugin entry sits outside: importing it would succeed.
    await writeFile(join(root, 'outside.js'), goodEntry('escape'));
    await writePlugin(root, 'escape', { pkg: { main: '../../../outside.js' }, entry: null });
    const p = await loadPlugin(join(root, 'escape'), 'escape');
    assertFailed(p, 'import', 'CEDANA_ERR_PLUGIN_MANIFEST', /must be a file inside .*: "\.\.\/\.\.\/\.\.\/outside\.js": it goes up/);
  });

  it("registers a plugin's own error codes: a CedanaError of one gets its hint and status", async () => {
    const errors = { CEDANA_ERR_OWNCODES_DISK_FULL: { status: 'RESOURCE_EXHAUSTED', hint: 'free some space on the disk' } };
    const entry = `export default { name: 'owncodes', version: '1.0.0', features: {}, errors: ${JSON.stringify(errors)} };\n`;
    await writePlugin(root, 'owncodes', { entry });
    const p = await loadPlugin(join(root, 'owncodes'), 'owncodes');
    assert.equal(p.status, 'ok', p.error?.message);
    const err = new CedanaError('CEDANA_ERR_OWNCODES_DISK_FULL', 'the disk is full');
    assert.equal(err.hint, 'free some space on the disk');
    assert.equal(err.status, 'RESOURCE_EXHAUSTED');
    assert.equal(isCedanaError(err), true);
  });

  for (const [why, code, owner] of [
    ['a core code', 'CEDANA_ERR_JOB_NOT_FOUND', /belongs to cedana's core/],
    ["another plugin's code", 'CEDANA_ERR_OWNCODES_DISK_FULL', /belongs to the plugin "owncodes"/],
    ['a code not named after the plugin', 'CEDANA_ERR_DISK_FULL', /not named after the plugin: expected CEDANA_ERR_THIEF_<WHAT>/],
  ] as const) {
    it(`refuses a plugin that declares ${why}, in shape`, async () => {
      await writePlugin(root, 'owncodes', {
        version: '1.0.0',
        entry: `export default { name: 'owncodes', version: '1.0.0', features: {}, errors: { CEDANA_ERR_OWNCODES_DISK_FULL: { status: 'INTERNAL', hint: 'free some space' } } };\n`,
      }).catch(() => {});
      await loadPlugin(join(root, 'owncodes'), 'owncodes');
      const entry = `export default { name: 'thief', version: '1.0.0', features: {}, errors: { ${code}: { status: 'INTERNAL', hint: 'do something else' } } };\n`;
      await rm(join(root, 'thief'), { recursive: true, force: true });
      await writePlugin(root, 'thief', { entry });
      assertFailed(await loadPlugin(join(root, 'thief'), 'thief'), 'shape', 'CEDANA_ERR_PLUGIN_SHAPE', owner);
    });
  }

  it('refuses an error code without a gRPC status or a hint', async () => {
    const entry = `export default { name: 'nohint', version: '1.0.0', features: {}, errors: { CEDANA_ERR_NOHINT_X: { status: 'SOMETIMES' } } };\n`;
    await writePlugin(root, 'nohint', { entry });
    assertFailed(
      await loadPlugin(join(root, 'nohint'), 'nohint'),
      'shape',
      'CEDANA_ERR_PLUGIN_SHAPE',
      /status "SOMETIMES", expected a gRPC status name/,
    );
  });

  it('loads a good plugin with status ok, its definition and version', async () => {
    const dir = await writePlugin(root, 'good', { version: '1.2.3' });
    const p = await loadPlugin(join(root, 'good'), 'good');
    assert.equal(p.status, 'ok', p.error?.message);
    assert.equal(p.version, '1.2.3');
    assert.equal(p.path, dir);
    assert.equal(p.definition?.name, 'good');
    assert.deepEqual(p.definition?.features, { KillSignal: 'SIGTERM' });
    assert.equal(p.error, undefined);
    assert.equal(p.phase, undefined);
    assert.equal(typeof p.loadMs, 'number');
  });

  it('chooses the highest semver version folder, not the last listed', async () => {
    for (const v of ['1.9.0', '1.10.0', '0.20.0', '1.10.0-rc.1']) await writePlugin(root, 'many', { version: v });
    await mkdir(join(root, 'many', 'not-a-version'));
    const p = await loadPlugin(join(root, 'many'), 'many');
    assert.equal(p.status, 'ok', p.error?.message);
    assert.equal(p.version, '1.10.0');
    assert.equal(p.path, join(root, 'many', '1.10.0'));
  });

  it('chooses the highest version made for this host over a higher one that is not', async () => {
    await writePlugin(root, 'mixed', { version: '1.0.0' });
    await writePlugin(root, 'mixed', { version: '2.0.0', cedana: { plugin: 'mixed', engines: `>${HOST_VERSION}` } });
    const p = await loadPlugin(join(root, 'mixed'), 'mixed');
    assert.equal(p.status, 'ok', p.error?.message);
    assert.equal(p.version, '1.0.0');
  });

  it('refuses a plugin named like a type the core serves itself (process)', async () => {
    await writePlugin(root, 'process');
    const p = await loadPlugin(join(root, 'process'), 'process');
    assertFailed(p, 'manifest', 'CEDANA_ERR_PLUGIN_MANIFEST', /"process", a name cedana keeps for itself/);
    assert.match(p.error?.hint ?? '', /appliesTo/);
  });

  it('refuses an appliesTo that is neither "*" nor a list of types', async () => {
    await writePlugin(root, 'badapplies', {
      entry: 'export default { name: "badapplies", version: "1.0.0", appliesTo: "all", features: {} };\n',
    });
    const p = await loadPlugin(join(root, 'badapplies'), 'badapplies');
    assertFailed(p, 'shape', 'CEDANA_ERR_PLUGIN_SHAPE', /"appliesTo" of .* is "all"/);
  });

  it('loads a version folder that is a symlink', async () => {
    const target = await writePlugin(join(root, 'elsewhere'), 'linked', { version: '2.0.0' });
    await mkdir(join(root, 'linked'));
    await symlink(target, join(root, 'linked', '2.0.0'));
    const p = await loadPlugin(join(root, 'linked'), 'linked');
    assert.equal(p.status, 'ok', p.error?.message);
    assert.equal(p.version, '2.0.0');
    assert.equal(p.definition?.name, 'linked');
  });

  it('loads a plain-JS default export { name, version, features } without the SDK', async () => {
    await writePlugin(root, 'plain', {
      entry: 'const features = {}; export default { name: "plain", version: "1.0.0", features };\n',
    });
    const p = await loadPlugin(join(root, 'plain'), 'plain');
    assert.equal(p.status, 'ok', p.error?.message);
    assert.deepEqual(p.definition, { name: 'plain', version: '1.0.0', features: {} });
  });

  it('follows "exports" to the entry when the package has one', async () => {
    await writePlugin(root, 'exported', {
      entryFile: 'lib/main.js',
      pkg: { main: undefined, exports: { '.': { import: './lib/main.js' } } },
    });
    const p = await loadPlugin(join(root, 'exported'), 'exported');
    assert.equal(p.status, 'ok', p.error?.message);
  });

  it('fails in resolve when the plugin has no version folder', async () => {
    await mkdir(join(root, 'empty', 'latest'), { recursive: true });
    const p = await loadPlugin(join(root, 'empty'), 'empty');
    assertFailed(p, 'resolve', 'CEDANA_ERR_PLUGIN_MANIFEST', /no version folder.*found: latest/);
  });

  it('fails in manifest when package.json has no "cedana" field', async () => {
    const dir = await writePlugin(root, 'nofield', { cedana: null });
    const p = await loadPlugin(join(root, 'nofield'), 'nofield');
    assertFailed(p, 'manifest', 'CEDANA_ERR_PLUGIN_MANIFEST', /cedana-plugin-nofield is not a cedana plugin/);
    assert.equal(p.path, dir);
  });

  it('fails in manifest when package.json is not JSON', async () => {
    const dir = await writePlugin(root, 'badjson');
    await writeFile(join(dir, 'package.json'), '{ nope');
    const p = await loadPlugin(join(root, 'badjson'), 'badjson');
    assertFailed(p, 'manifest', 'CEDANA_ERR_PLUGIN_MANIFEST', /cannot read .*package\.json/);
  });

  it('rejects a plugin whose engines range excludes the host version', async () => {
    await writePlugin(root, 'future', { cedana: { plugin: 'future', engines: `>${HOST_VERSION}` } });
    const p = await loadPlugin(join(root, 'future'), 'future');
    assertFailed(p, 'engines', 'CEDANA_ERR_PLUGIN_ENGINE', new RegExp(`this is cedana ${HOST_VERSION.replaceAll('.', '\\.')}`));
  });

  it('accepts a plugin whose engines range includes the host version', async () => {
    await writePlugin(root, 'fits', { cedana: { plugin: 'fits', engines: `^${HOST_VERSION}` } });
    const p = await loadPlugin(join(root, 'fits'), 'fits');
    assert.equal(p.status, 'ok', p.error?.message);
  });

  it('fails in engines when the range is not semver', async () => {
    await writePlugin(root, 'badrange', { cedana: { plugin: 'badrange', engines: 'soon' } });
    const p = await loadPlugin(join(root, 'badrange'), 'badrange');
    assertFailed(p, 'engines', 'CEDANA_ERR_PLUGIN_MANIFEST', /not a semver range/);
  });

  it('fails in import with the thrown text when the entry throws at import', async () => {
    await writePlugin(root, 'throws', { entry: 'throw new Error("kaboom at load");\n' });
    const p = await loadPlugin(join(root, 'throws'), 'throws');
    assertFailed(p, 'import', 'CEDANA_ERR_PLUGIN_IMPORT', /kaboom at load/);
  });

  it('fails in import when the entry file is missing', async () => {
    await writePlugin(root, 'noentry', { entry: null });
    const p = await loadPlugin(join(root, 'noentry'), 'noentry');
    assertFailed(p, 'import', 'CEDANA_ERR_PLUGIN_IMPORT', /index\.js does not exist/);
  });

  it('fails in shape when the entry has no default export', async () => {
    await writePlugin(root, 'nodefault', { entry: 'export const features = {};\n' });
    const p = await loadPlugin(join(root, 'nodefault'), 'nodefault');
    assertFailed(p, 'shape', 'CEDANA_ERR_PLUGIN_SHAPE', /default export .* is missing/);
  });

  it('fails in shape when the default export has no features', async () => {
    await writePlugin(root, 'nofeatures', { entry: 'export default { name: "nofeatures", version: "1.0.0" };\n' });
    const p = await loadPlugin(join(root, 'nofeatures'), 'nofeatures');
    assertFailed(p, 'shape', 'CEDANA_ERR_PLUGIN_SHAPE', /no "features" object \(keys: name, version\)/);
  });

  it('fails in shape when the definition names another plugin than package.json', async () => {
    await writePlugin(root, 'liar', { entry: goodEntry('someone-else') });
    const p = await loadPlugin(join(root, 'liar'), 'liar');
    assertFailed(p, 'shape', 'CEDANA_ERR_PLUGIN_SHAPE', /calls itself "someone-else" .* "cedana.plugin": "liar"/);
  });
});

describe('loadPlugins', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-loader-all-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('gives [] for a missing plugins dir', async () => {
    assert.deepEqual(await loadPlugins(join(root, 'does-not-exist')), []);
  });

  it('gives [] for an empty plugins dir', async () => {
    await mkdir(join(root, 'empty'));
    assert.deepEqual(await loadPlugins(join(root, 'empty')), []);
  });

  it('loads the others when one plugin is broken, one record each, ordered by name', async () => {
    const dir = join(root, 'mixed');
    await writePlugin(dir, 'zeta');
    await writePlugin(dir, 'broken', { entry: 'throw new Error("broken on purpose");\n' });
    await writePlugin(dir, 'alpha');
    await mkdir(join(dir, '.hidden', '1.0.0'), { recursive: true });
    await writeFile(join(dir, 'README'), 'not a plugin');
    const loaded = await loadPlugins(dir);
    assert.deepEqual(
      loaded.map((p) => [p.name, p.status]),
      [
        ['alpha', 'ok'],
        ['broken', 'error'],
        ['zeta', 'ok'],
      ],
    );
    const broken = loaded.find((p) => p.name === 'broken');
    assert.ok(broken);
    assertFailed(broken, 'import', 'CEDANA_ERR_PLUGIN_IMPORT', /broken on purpose/);
  });
});
