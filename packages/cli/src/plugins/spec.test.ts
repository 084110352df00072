import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIRST_PARTY, firstParty, packageOf } from '@cedana/core';
import { describeSpec, parseSpec } from './spec.js';

describe('parseSpec', () => {
  it('turns a first-party short name into its package, with or without a range', () => {
    assert.deepEqual(parseSpec('runc'), { kind: 'registry', raw: 'runc', name: '@cedana/plugin-runc', range: '*' });
    assert.deepEqual(parseSpec('criu@^0.2.0'), { kind: 'registry', raw: 'criu@^0.2.0', name: '@cedana/plugin-criu', range: '^0.2.0' });
    assert.equal(describeSpec(parseSpec('criu@latest')), '@cedana/plugin-criu@latest');
  });

  it('leaves any other npm name as it is', () => {
    assert.deepEqual(parseSpec('cedana-plugin-tag@1.0.0'), {
      kind: 'registry',
      raw: 'cedana-plugin-tag@1.0.0',
      name: 'cedana-plugin-tag',
      range: '1.0.0',
    });
    assert.equal(parseSpec('@acme/cedana-foo').kind, 'registry');
  });

  it('tells tarballs, folders and URLs apart, with absolute paths', () => {
    assert.deepEqual(parseSpec('./x-1.0.0.tgz', '/work'), { kind: 'file', raw: './x-1.0.0.tgz', path: '/work/x-1.0.0.tgz' });
    assert.deepEqual(parseSpec('../plugins/criu', '/work/a'), { kind: 'directory', raw: '../plugins/criu', path: '/work/plugins/criu' });
    assert.equal(parseSpec('https://example.test/x-1.0.0.tgz').kind, 'remote');
  });

  it('refuses what is not a package spec, or a kind cedana does not install', () => {
    assert.throws(() => parseSpec('Not A Name!'), { code: 'CEDANA_ERR_INVALID_ARGUMENT' });
    assert.throws(() => parseSpec('github:acme/plugin'), { code: 'CEDANA_ERR_INVALID_ARGUMENT', message: /git spec/ });
  });
});

describe('first-party plugins', () => {
  it('maps short names and package names both ways', () => {
    assert.equal(packageOf('runc'), '@cedana/plugin-runc');
    assert.equal(firstParty('@cedana/plugin-gpu')?.type, 'experimental');
    assert.equal(firstParty('criu')?.type, 'supported');
    assert.equal(firstParty('cedana-plugin-tag'), undefined);
  });

  it('lists each plugin once', () => {
    assert.equal(new Set(FIRST_PARTY.map((p) => p.name)).size, FIRST_PARTY.length);
  });
});
