import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wire } from '@cedana/core';
import { fromFailedCall } from './call-errors.js';

const md = (entries: Record<string, string>) => ({ get: (key: string) => (key in entries ? [entries[key] as string] : []) });

describe('fromFailedCall', () => {
  it('rebuilds the CedanaError from the trailer', () => {
    const err = fromFailedCall(
      {
        code: 5,
        details: 'no job "web"',
        metadata: md({
          [wire.ERROR_CODE_KEY]: 'CEDANA_ERR_JOB_NOT_FOUND',
          [wire.ERROR_HINT_KEY]: 'try `cedana ps`',
          [wire.ERROR_DETAILS_KEY]: '["a","b"]',
        }),
      },
      'unix:///run/cedana.sock',
    );
    assert.equal(err.code, 'CEDANA_ERR_JOB_NOT_FOUND');
    assert.equal(err.message, 'no job "web"');
    assert.equal(err.hint, 'try `cedana ps`');
    assert.deepEqual(err.details, ['a', 'b']);
  });

  it('maps UNAVAILABLE without a trailer to DAEMON_UNREACHABLE naming the address', () => {
    const err = fromFailedCall({ code: 14, details: 'No connection established' }, '127.0.0.1:8080');
    assert.equal(err.code, 'CEDANA_ERR_DAEMON_UNREACHABLE');
    assert.match(err.message, /127\.0\.0\.1:8080/);
    assert.match(err.hint, /cedana daemon start/);
  });

  it('maps UNAUTHENTICATED, and anything else to INTERNAL', () => {
    assert.equal(fromFailedCall({ code: 16, details: 'bad token' }, 'a').code, 'CEDANA_ERR_UNAUTHENTICATED');
    assert.equal(fromFailedCall({ code: 2, details: 'weird' }, 'a').code, 'CEDANA_ERR_INTERNAL');
    assert.equal(
      fromFailedCall({ code: 13, details: 'x', metadata: md({ [wire.ERROR_CODE_KEY]: 'NOT_A_CODE' }) }, 'a').code,
      'CEDANA_ERR_INTERNAL',
    );
  });
});
