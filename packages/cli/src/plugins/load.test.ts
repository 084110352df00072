import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFlag, needsPlugins } from './load.js';

describe('needsPlugins', () => {
  it('skips plugin loading for commands no plugin can extend', () => {
    assert.equal(needsPlugins(['ps']), false);
    assert.equal(needsPlugins(['--address', '/tmp/s.sock', 'job', 'list']), false);
    assert.equal(needsPlugins(['--profiling', 'kill', 'web']), false);
    assert.equal(needsPlugins(['--version']), false);
    assert.equal(needsPlugins(['plugin', 'install', 'runc']), false);
  });

  it('loads plugins where their subcommands may be used, and for unknown commands (helper commands)', () => {
    assert.equal(needsPlugins(['dump', 'runc']), true);
    assert.equal(needsPlugins(['--config', 'ps', 'features']), true);
    assert.equal(needsPlugins(['k8s-helper']), true);
    assert.equal(needsPlugins(['--help']), true);
  });
});

describe('configFlag', () => {
  it('reads --config FILE and --config=FILE, not after --', () => {
    assert.equal(configFlag(['ps', '--config', '/a.json']), '/a.json');
    assert.equal(configFlag(['--config=/b.json', 'ps']), '/b.json');
    assert.equal(configFlag(['run', 'process', '--', 'x', '--config', '/c.json']), undefined);
  });
});
