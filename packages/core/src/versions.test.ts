import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atLeastVersion, newestFirst } from './versions.js';

describe('versions', () => {
  it('orders version folders by semver, newest first, and drops names that are no version', () => {
    assert.deepEqual(newestFirst(['0.9.0', '0.10.0', 'tmp', '0.10.0-rc.1', '1.0.0', '.staging']), [
      '1.0.0',
      '0.10.0',
      '0.10.0-rc.1',
      '0.9.0',
    ]);
  });

  it('tells whether a version is a minimum or newer', () => {
    assert.equal(atLeastVersion('0.1.0', '0.1.0'), true);
    assert.equal(atLeastVersion('0.0.9', '0.1.0'), false);
    assert.equal(atLeastVersion('0.10.0', '0.9.0'), true, 'by number, not by text');
    assert.equal(atLeastVersion('1.0.0-rc1', '0.1.0'), true);
    assert.equal(atLeastVersion('0.1.0-rc1', '0.1.0'), true, 'a pre-release of the minimum has what it needs');
    assert.equal(atLeastVersion('v0.2.0', '0.1.0'), true);
    assert.equal(atLeastVersion('unknown', '0.1.0'), false);
  });
});
