import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedPlugin } from '@cedana/core';
import { cli } from '../testing/fake-cli.js';
import { asTables } from './query.js';

const runc: LoadedPlugin = {
  name: 'runc',
  version: '1.0.0',
  path: '/p/runc/1.0.0',
  status: 'ok',
  definition: {
    name: 'runc',
    version: '1.0.0',
    features: {
      QueryCmd: {
        describe: 'List containers',
        options: { root: { type: 'string', describe: 'runc root' } },
        details: (a) => ({ root: a.root }),
      },
    },
  },
};
const result = {
  containers: [
    { id: 'c1', pid: 42, status: 'running', bundle: '/b/c1' },
    { id: 'c2', pid: 0, status: 'stopped', bundle: '/b/c2' },
  ],
};

describe('query', () => {
  it('prints a list of records as a table for people', async () => {
    const r = await cli(['query', 'runc', '--root', '/r'], { plugins: [runc], responses: { query: { result } } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [['query', { type: 'runc', details: { runc: { root: '/r' } } }]]);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^ID\s+PID\s+STATUS\s+BUNDLE$/);
    assert.match(lines[1] ?? '', /^c1\s+42\s+running\s+\/b\/c1$/);
    assert.match(lines[2] ?? '', /^c2\s+0\s+stopped\s+\/b\/c2$/);
  });

  it('prints JSON with --json, and whenever the answer is not lists of flat records', async () => {
    const json = await cli(['query', 'runc', '--json'], { plugins: [runc], responses: { query: { result } } });
    assert.deepEqual(JSON.parse(json.stdout), result);
    const nested = { version: '1.1', containers: [] };
    const other = await cli(['query', 'process'], { responses: { query: { result: nested } } });
    assert.deepEqual(JSON.parse(other.stdout), nested);
  });

  it('makes one table per list, and says when a list is empty', () => {
    assert.deepEqual(asTables({ containers: [] }), [['containers', 'no containers']]);
    assert.equal(asTables({ a: [{ x: { nested: 1 } }] }), undefined);
    assert.equal(asTables({}), undefined);
    assert.equal(asTables({ a: [{ x: 1 }], b: [{ y: 'z' }] })?.length, 2);
  });
});
