import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CedanaError, type LoadedPlugin } from '@cedana/core';
import { cli } from '../testing/fake-cli.js';

describe('plugins', () => {
  const runc: LoadedPlugin = {
    name: 'runc',
    version: '1.0.0',
    path: '/p/runc/1.0.0',
    status: 'ok',
    definition: {
      name: 'runc',
      version: '1.0.0',
      features: {
        DumpCmd: {
          describe: 'Dump a runc container',
          options: {
            id: { type: 'string', describe: 'container ID', alias: 'i', demandOption: true },
            root: { type: 'string', describe: 'runc root', default: '/run/runc' },
          },
          details: (argv) => ({ id: argv.id, root: argv.root }),
        },
        HelperCmds: [{ command: 'runc-hello', describe: 'says hello', handler: async () => {} }],
      },
    },
  };
  const broken: LoadedPlugin = {
    name: 'gpu',
    version: '0.1.0',
    path: '/p/gpu/0.1.0',
    status: 'error',
    phase: 'import',
    error: new CedanaError('CEDANA_ERR_PLUGIN_IMPORT', 'plugin "gpu" (import): SyntaxError'),
  };
  const wrong: LoadedPlugin = {
    name: 'bad',
    version: '1.0.0',
    path: '/p/bad/1.0.0',
    status: 'ok',
    definition: { name: 'bad', version: '1.0.0', features: { DumpCmd: 42 as never } },
  };

  it('adds `dump <plugin>` with its flags and sends its details', async () => {
    const r = await cli(['dump', 'runc', '-i', 'c1', '--dir', '/ckpt'], {
      plugins: [runc, broken, wrong],
      responses: { dump: { messages: [] } },
    });
    assert.equal(r.code, 0, r.stderr);
    const req = r.calls[0]?.[1] as { type: string; dir: string; details: unknown };
    assert.equal(req.type, 'runc');
    assert.equal(req.dir, '/ckpt');
    assert.deepEqual(req.details, { runc: { id: 'c1', root: '/run/runc' } });
  });

  it('enforces the plugin’s required flags', async () => {
    const r = await cli(['dump', 'runc'], { plugins: [runc] });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Missing required argument: id/);
  });

  it('leaves out broken and wrong-shaped plugins without breaking the CLI', async () => {
    assert.equal((await cli(['dump', 'bad'], { plugins: [runc, broken, wrong] })).code, 2);
    assert.equal((await cli(['dump', 'gpu'], { plugins: [runc, broken, wrong] })).code, 2);
    assert.equal((await cli(['runc-hello'], { plugins: [runc, broken, wrong] })).code, 0);
  });

  it('features --errors lists the errors and exits 1; 0 when there are none', async () => {
    const r = await cli(['features', '--errors'], { plugins: [runc, broken, wrong] });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /gpu \(import\) \[CEDANA_ERR_PLUGIN_IMPORT\]/);
    assert.match(r.stdout, /bad \(shape\) \[CEDANA_ERR_PLUGIN_SHAPE\]/);
    assert.equal((await cli(['plugin', 'features', 'runc', '--errors'], { plugins: [runc, broken] })).code, 0);
  });

  it('plugin list shows every first-party and installed plugin: status, versions, type, load state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cedana-list-'));
    for (const [plugin, version] of [
      ['runc', '1.0.0'],
      ['gpu', '0.1.0'],
    ] as const) {
      await mkdir(join(dir, 'plugins', plugin, version), { recursive: true });
      await writeFile(join(dir, 'plugins', plugin, version, 'package.json'), JSON.stringify({ name: `@cedana/plugin-${plugin}`, version }));
    }
    await mkdir(join(dir, 'catalog'));
    const entry = (plugin: string, version: string) => ({
      name: `@cedana/plugin-${plugin}`,
      plugin,
      version,
      file: 'x.tgz',
      integrity: '',
    });
    await writeFile(join(dir, 'catalog', 'catalog.json'), JSON.stringify({ plugins: [entry('runc', '1.1.0'), entry('criu', '0.3.0')] }));
    const r = await cli(['plugin', 'list', '--json'], {
      plugins: [runc, broken],
      env: { CEDANA_PLUGINS_DIR: join(dir, 'plugins'), CEDANA_PLUGINS_CATALOG: join(dir, 'catalog') },
    });
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as {
      plugin: string;
      type: string;
      status: string;
      installed?: string;
      latest?: string;
      load?: string;
    }[];
    const view = (name: string) => {
      const row = rows.find((x) => x.plugin === name);
      return [row?.type, row?.status, row?.installed, row?.latest, row?.load];
    };
    assert.deepEqual(view('runc'), ['supported', 'outdated', '1.0.0', '1.1.0', 'ok']);
    assert.deepEqual(view('gpu'), ['experimental', 'installed', '0.1.0', undefined, 'error']);
    assert.deepEqual(view('criu'), ['supported', 'available', undefined, '0.3.0', undefined]);
    assert.deepEqual(view('kata'), ['experimental', 'unavailable', undefined, undefined, undefined]);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('a flag several plugins declare on `restore job`', () => {
  it('goes to each of them, so the job’s own plugin gets it whatever the order', async () => {
    const { givenPluginDetails } = await import('./commands.js');
    const idOf = (name: string) => ({
      plugin: name,
      cmd: {
        describe: name,
        options: { id: { type: 'string' as const, alias: 'i', describe: 'container ID' } },
        details: (argv: Record<string, unknown>) => ({ id: argv.id }),
      },
    });
    const details = givenPluginDetails([idOf('containerd'), idOf('runc')], 'RestoreCmd', { id: 'web2' }, ['jid', 'path']);
    assert.deepEqual(details, { containerd: { id: 'web2' }, runc: { id: 'web2' } });
    assert.equal(givenPluginDetails([idOf('containerd'), idOf('runc')], 'RestoreCmd', {}, ['jid']), undefined);
  });
});
