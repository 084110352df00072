import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOlderThan, parseCriuVersion } from './criu-version.js';

test('reads the version of `criu --version`', () => {
  assert.deepEqual(parseCriuVersion('Version: 4.2.1\n'), { major: 4, minor: 2, patch: 1, text: '4.2.1' });
  assert.deepEqual(parseCriuVersion('Version: 3.17\nGitID: v3.17-12-gabc\n'), { major: 3, minor: 17, patch: 0, text: '3.17' });
});

test('finds no version in other output', () => {
  assert.equal(parseCriuVersion('criu: command not found'), undefined);
  assert.equal(parseCriuVersion(''), undefined);
});

test('calls versions below 4.2 too old', () => {
  const v = (text: string) => parseCriuVersion(`Version: ${text}`) ?? assert.fail(text);
  assert.equal(isOlderThan(v('3.17.1')), true);
  assert.equal(isOlderThan(v('4.1.1')), true);
  assert.equal(isOlderThan(v('4.2')), false);
  assert.equal(isOlderThan(v('4.2.1')), false);
  assert.equal(isOlderThan(v('5.0')), false);
});
