import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFlag } from './load.js';

describe('configFlag', () => {
  it('reads --config FILE and --config=FILE, not after --', () => {
    assert.equal(configFlag(['ps', '--config', '/a.json']), '/a.json');
    assert.equal(configFlag(['--config=/b.json', 'ps']), '/b.json');
    assert.equal(configFlag(['run', 'process', '--', 'x', '--config', '/c.json']), undefined);
  });
});
