import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeOf, insideFolder, isPlainName } from './inside-folder.js';

const fail = (reason: string) => new Error(reason);

describe('insideFolder', () => {
  it('joins names that stay inside the folder', () => {
    assert.equal(insideFolder('/p', ['criu', '1.2.3'], fail), '/p/criu/1.2.3');
    assert.equal(insideFolder('/p/', ['a/b.img'], fail), '/p/a/b.img');
  });
  it('refuses "..", absolute paths and NUL before joining, naming the part', () => {
    assert.throws(() => insideFolder('/p', ['tv', '../../../../tmp/victim'], fail), /"..\/..\/..\/..\/tmp\/victim": it goes up/);
    assert.throws(() => insideFolder('/p', ['@evil/../..'], fail), /goes up/);
    assert.throws(() => insideFolder('/p', ['/etc/hostname'], fail), /absolute path/);
    assert.throws(() => insideFolder('/p', ['a\0b'], fail), /NUL/);
    assert.throws(() => insideFolder('/p', [''], fail), /empty/);
  });
  it('refuses the folder itself unless allowed', () => {
    assert.throws(() => insideFolder('/p', ['.'], fail), /outside \/p/);
    assert.equal(insideFolder('/p', ['.'], fail, true), '/p');
  });
  it('accepts names with dots that do not go up', () => {
    assert.equal(escapeOf('..a/b..'), undefined);
    assert.equal(insideFolder('/p', ['..a'], fail), '/p/..a');
  });
});

describe('isPlainName', () => {
  it('is one path component', () => {
    assert.ok(isPlainName('dump-1'));
    for (const bad of ['', '.', '..', 'a/b', '../x', 'a\0']) assert.ok(!isPlainName(bad), bad);
  });
});
