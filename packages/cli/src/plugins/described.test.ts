import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CedanaError, featureMatrix, type LoadedPlugin } from '@cedana/core';
import { describedPlugins, describe as describePlugins, describesOnly, fingerprint, revive } from './described.js';

const plugins: LoadedPlugin[] = [
  {
    name: 'web',
    version: '1.0.0',
    path: '/p/web/1.0.0',
    status: 'ok',
    loadMs: 3,
    definition: {
      name: 'web',
      version: '1.0.0',
      features: {
        DumpCmd: { describe: 'Checkpoint a web thing', options: { id: { type: 'string', describe: 'its id' } }, details: () => ({}) },
        DumpMiddleware: [(next) => next],
        RestoreCmd: { describe: 42 } as never, // incompatible: the matrix says why
      },
    },
  },
  {
    name: 'old',
    version: '0.1.0',
    path: '/p/old/0.1.0',
    status: 'error',
    phase: 'engines',
    error: new CedanaError('CEDANA_ERR_PLUGIN_ENGINE', 'plugin "old" (engines): wants ^9', { hint: 'update it' }),
  },
];

describe('described plugins', () => {
  it('give the same feature matrix as the loaded ones', () => {
    const described = describePlugins(plugins);
    assert.ok(described);
    const revived = revive(JSON.parse(JSON.stringify(described)));
    assert.deepEqual(featureMatrix(revived), featureMatrix(plugins));
    assert.equal(revived[1]?.error?.hint, 'update it');
  });

  it('stand in for functions with ones that say the code was not loaded', () => {
    const [web] = revive(JSON.parse(JSON.stringify(describePlugins(plugins))));
    const details = web?.definition?.features?.DumpCmd?.details;
    assert.throws(() => details?.({}), /was not loaded/);
  });

  it('are not kept for values JSON cannot carry', () => {
    const odd: LoadedPlugin = {
      ...plugins[0],
      definition: { name: 'web', version: '1', features: { Version: new Map() as never } },
    } as LoadedPlugin;
    assert.equal(describePlugins([odd]), undefined);
  });

  it('serve help, features and plugin list only', () => {
    for (const args of [
      ['--help'],
      ['dump', '--help'],
      ['restore', 'job', 'J', '-h'],
      [],
      ['features', '--errors'],
      ['--address', 'x', 'plugin', 'list'],
      ['plugins', 'features'],
    ]) {
      assert.equal(describesOnly(args), true, args.join(' '));
    }
    for (const args of [
      ['dump', 'runc', 'c1'],
      ['--version'],
      ['plugin', 'install', 'runc'],
      ['restore', 'job', 'J', '--id', 'x'],
      ['exec', '--', 'x', '--help'],
      ['tag-show', 'ck'],
    ]) {
      assert.equal(describesOnly(args), false, args.join(' '));
    }
  });

  it('are loaded again when a version folder appears', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cedana-described-'));
    try {
      mkdirSync(join(dir, 'web', '1.0.0'), { recursive: true });
      writeFileSync(join(dir, 'web', '1.0.0', 'package.json'), '{"name":"web"}');
      let loads = 0;
      const load = async () => {
        loads++;
        return plugins;
      };
      await describedPlugins(dir, load);
      const again = await describedPlugins(dir, load);
      assert.equal(loads, 1);
      assert.deepEqual(featureMatrix(again), featureMatrix(plugins));
      const before = fingerprint(dir);
      mkdirSync(join(dir, 'web', '1.0.1'));
      assert.notEqual(fingerprint(dir), before);
      await describedPlugins(dir, load);
      assert.equal(loads, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
