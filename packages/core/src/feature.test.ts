import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { isCedanaError } from './errors.js';
import { setPluginSource } from './feature.js';
import { DumpMiddleware, KillSignal } from './features.js';
import type { LoadedPlugin } from './plugin.js';

function plugins(...list: Partial<LoadedPlugin>[]): void {
  const loaded = list.map((p) => ({ version: '1.0.0', path: '/x', status: 'ok', ...p }) as LoadedPlugin);
  setPluginSource({ plugins: () => loaded });
}

const mw = [(next: unknown) => next];

describe('Feature.ifAvailable', () => {
  afterEach(() => plugins());

  it('visits every plugin that exports the feature, with its value', async () => {
    plugins(
      { name: 'a', definition: { name: 'a', version: '1', features: { DumpMiddleware: mw as never } } },
      { name: 'b', definition: { name: 'b', version: '1', features: {} } },
    );
    const seen: string[] = [];
    await DumpMiddleware.ifAvailable((name, value) => {
      seen.push(name);
      assert.equal(value, mw);
    });
    assert.deepEqual(seen, ['a']);
  });

  it('only visits the plugins named in the filter', async () => {
    plugins(
      { name: 'a', definition: { name: 'a', version: '1', features: { KillSignal: 'SIGTERM' } } },
      { name: 'b', definition: { name: 'b', version: '1', features: { KillSignal: 'SIGINT' } } },
    );
    const seen: string[] = [];
    await KillSignal.ifAvailable((_, s) => void seen.push(s), 'b');
    assert.deepEqual(seen, ['SIGINT']);
  });

  it('tells a missing export apart from an incompatible one, and joins all errors', async () => {
    plugins(
      { name: 'wrong', definition: { name: 'wrong', version: '1', features: { KillSignal: 9 as never } } },
      { name: 'none', definition: { name: 'none', version: '1', features: {} } },
    );
    await assert.rejects(
      KillSignal.ifAvailable(() => {}, 'wrong', 'none', 'absent'),
      (err: unknown) => {
        assert.ok(isCedanaError(err));
        assert.match(err.message, /plugin "wrong" exports KillSignal as a number \(9\), expected a string/);
        assert.match(err.message, /plugin "none" does not export KillSignal/);
        assert.match(err.message, /plugin "absent" is not installed/);
        return true;
      },
    );
  });

  it('reports a plugin that failed to load instead of visiting it', async () => {
    plugins({ name: 'broken', status: 'error' });
    await assert.rejects(
      KillSignal.ifAvailable(() => {}, 'broken'),
      /failed to load/,
    );
    assert.equal(KillSignal.isAvailable('broken'), false);
  });

  it('never lets a throwing callback escape raw: the error names the plugin and feature, and other plugins still run', async () => {
    plugins(
      { name: 'a', definition: { name: 'a', version: '1', features: { KillSignal: 'SIGTERM' } } },
      { name: 'b', definition: { name: 'b', version: '1', features: { KillSignal: 'SIGINT' } } },
    );
    const seen: string[] = [];
    await assert.rejects(
      KillSignal.ifAvailable((name) => {
        seen.push(name);
        if (name === 'a') throw new TypeError('boom');
      }),
      (err: unknown) =>
        isCedanaError(err) && err.code === 'CEDANA_ERR_PLUGIN_FAILED' && /plugin "a" failed in KillSignal: boom/.test(err.message),
    );
    assert.deepEqual(seen, ['a', 'b']);
  });

  it('isAvailable checks the shape too', () => {
    plugins({ name: 'a', definition: { name: 'a', version: '1', features: { DumpMiddleware: 'nope' as never } } });
    assert.equal(DumpMiddleware.isAvailable(), false);
    plugins({ name: 'a', definition: { name: 'a', version: '1', features: { DumpMiddleware: mw as never } } });
    assert.equal(DumpMiddleware.isAvailable('a'), true);
    assert.equal(DumpMiddleware.isAvailable('b'), false);
  });
});
