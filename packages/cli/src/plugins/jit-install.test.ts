import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedPlugin } from '@cedana/core';
import { missingRuntimePlugin } from './jit-install.js';

const runc: LoadedPlugin = {
  name: 'runc',
  version: '1.0.0',
  path: '/p/runc/1.0.0',
  status: 'ok',
  definition: { name: 'runc', version: '1.0.0', features: {} },
};

describe('missingRuntimePlugin', () => {
  it('names a first-party runtime plugin that a runtime command names and that is not loaded', () => {
    assert.equal(missingRuntimePlugin(['dump', 'runc', '--id', 'c1'], []), 'runc');
    assert.equal(missingRuntimePlugin(['--address', '/tmp/s', 'restore', 'containerd', '--id', 'x'], []), 'containerd');
  });

  it('says so when the plugin is installed but failed to load, rather than call it missing', () => {
    const broken: LoadedPlugin = { ...runc, status: 'error', definition: undefined };
    assert.throws(() => missingRuntimePlugin(['dump', 'runc', '--id', 'c1'], [broken]), /the runc plugin is installed but failed to load/);
  });

  it('names nothing for a loaded plugin, a built-in subcommand, a plugin that is no runtime, or words after --', () => {
    assert.equal(missingRuntimePlugin(['dump', 'runc', '--id', 'c1'], [runc]), undefined);
    assert.equal(missingRuntimePlugin(['dump', 'job', 'j1'], []), undefined);
    assert.equal(missingRuntimePlugin(['dump', 'criu'], []), undefined);
    assert.equal(missingRuntimePlugin(['plugin', 'install', 'runc'], []), undefined);
    assert.equal(missingRuntimePlugin(['run', '--', 'runc'], []), undefined);
  });
});
