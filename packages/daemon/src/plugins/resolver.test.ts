import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCedanaError, type LoadedPlugin, type PluginDefinition, pluginSource } from '@cedana/core';
import { addressedByRole, requireRole } from './resolver.js';

function ok(definition: PluginDefinition): LoadedPlugin {
  return { name: definition.name, version: '1.0.0', path: `/fake/${definition.name}`, status: 'ok', definition };
}

const engine = ok({ name: 'my-engine', version: '1.0.0', role: 'engine', features: {} });
const streams = ok({ name: 'my-streams', version: '1.0.0', role: 'streams', requires: ['engine'], features: {} });

describe('the role resolver', () => {
  it('answers with the plugin that declares the role, whatever its name', () => {
    assert.equal(requireRole(pluginSource([streams, engine]), 'streams', '--streams 2').name, 'my-streams');
    assert.equal(requireRole(pluginSource([streams, engine]), 'engine', 'a dump').name, 'my-engine');
  });

  it('refuses a plugin whose required role nobody fills, naming that role, who could fill it and the install command', () => {
    assert.throws(
      () => requireRole(pluginSource([streams]), 'streams', '--streams 2'),
      (err: unknown) =>
        isCedanaError(err) &&
        err.code === 'CEDANA_ERR_ROLE_MISSING' &&
        /--streams 2 \(through plugin "my-streams", role streams\) needs a plugin in the "engine" role/.test(err.message) &&
        /plugins that fill it: criu/.test(err.message) &&
        /`cedana plugin install criu`/.test(err.hint ?? ''),
    );
  });

  it('says when the plugin that would fill the role is installed but failed to load', () => {
    const broken: LoadedPlugin = { name: 'criu', version: '1.0.0', path: '/x', status: 'error', error: undefined };
    assert.throws(() => requireRole(pluginSource([broken]), 'engine', 'a dump'), /plugin "criu" is installed but failed to load/);
  });

  it('moves details addressed to a role under the name of the plugin that fills it', () => {
    assert.deepEqual(addressedByRole(pluginSource([streams]), { streams: { streams: 2 }, other: {} }), {
      'my-streams': { streams: 2 },
      other: {},
    });
    assert.deepEqual(addressedByRole(pluginSource([]), { accelerator: {} }), { accelerator: {} }, 'a role nobody fills keeps its key');
  });
});
