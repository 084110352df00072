import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCedanaError } from './errors.js';
import { inPlugin, pluginSource } from './feature.js';
import { DumpMiddleware, KillSignal } from './features.js';
import type { LoadedPlugin } from './plugin.js';

function plugins(...list: Partial<LoadedPlugin>[]) {
  return pluginSource(list.map((p) => ({ version: '1.0.0', path: '/x', status: 'ok', ...p }) as LoadedPlugin));
}

const mw = [(next: unknown) => next];

describe('Feature.get and Feature.all', () => {
  it('all() returns the value of every loaded plugin that exports the feature, by plugin', () => {
    const from = plugins(
      { name: 'a', definition: { name: 'a', version: '1', features: { DumpMiddleware: mw as never } } },
      { name: 'b', definition: { name: 'b', version: '1', features: {} } },
      { name: 'c', status: 'error', definition: { name: 'c', version: '1', features: { DumpMiddleware: mw as never } } },
    );
    assert.deepEqual(DumpMiddleware.all(from), [{ plugin: 'a', value: mw }]);
  });

  it('get() returns one plugin’s value, and nothing for a plugin that is absent, failed to load or does not export it', () => {
    const from = plugins(
      { name: 'a', definition: { name: 'a', version: '1', features: { KillSignal: 'SIGTERM' } } },
      { name: 'b', definition: { name: 'b', version: '1', features: { KillSignal: 'SIGINT' } } },
      { name: 'none', definition: { name: 'none', version: '1', features: {} } },
      { name: 'broken', status: 'error' },
    );
    assert.equal(KillSignal.get(from, 'b'), 'SIGINT');
    assert.equal(KillSignal.get(from, 'none'), undefined);
    assert.equal(KillSignal.get(from, 'broken'), undefined);
    assert.equal(KillSignal.get(from, 'absent'), undefined);
  });

  it('a value of the wrong shape fails, naming the plugin, what it exported and what was expected', () => {
    const from = plugins({ name: 'wrong', definition: { name: 'wrong', version: '1', features: { KillSignal: 9 as never } } });
    assert.throws(
      () => KillSignal.get(from, 'wrong'),
      (err: unknown) =>
        isCedanaError(err) &&
        err.code === 'CEDANA_ERR_PLUGIN_SHAPE' &&
        /plugin "wrong" exports KillSignal as a number \(9\), expected a string/.test(err.message),
    );
    assert.throws(() => KillSignal.all(from), { code: 'CEDANA_ERR_PLUGIN_SHAPE' });
  });
});

describe('inPlugin', () => {
  it('names what plugin code throws, sync or async; a CedanaError keeps its code', async () => {
    assert.throws(
      () =>
        inPlugin('a', 'KillSignal', () => {
          throw new TypeError('boom');
        }),
      (err: unknown) =>
        isCedanaError(err) && err.code === 'CEDANA_ERR_PLUGIN_FAILED' && /plugin "a" failed in KillSignal: boom/.test(err.message),
    );
    await assert.rejects(
      inPlugin('a', 'QueryHandler', async () => {
        throw new TypeError('later');
      }),
      /plugin "a" failed in QueryHandler: later/,
    );
    assert.equal(await inPlugin('a', 'QueryHandler', async () => 7), 7);
  });
});
