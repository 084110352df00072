import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorFromTrailer } from './failed-call.js';
import { ERROR_CODE_KEY, ERROR_DETAILS_KEY, ERROR_HINT_KEY, toMetadataText } from './wire.js';

const md = (entries: Record<string, string>) => ({ get: (key: string) => (key in entries ? [entries[key] as string] : []) });

describe('errorFromTrailer', () => {
  it('rebuilds the CedanaError from code, hint and details', () => {
    const err = errorFromTrailer(
      {
        code: 5,
        details: 'ignored',
        metadata: md({
          [ERROR_CODE_KEY]: 'CEDANA_ERR_JOB_NOT_FOUND',
          [ERROR_HINT_KEY]: toMetadataText('try `cedana ps` — now'),
          [ERROR_DETAILS_KEY]: '["a","b"]',
        }),
      },
      'no job "web"',
    );
    assert.equal(err?.code, 'CEDANA_ERR_JOB_NOT_FOUND');
    assert.equal(err?.message, 'no job "web"');
    assert.equal(err?.hint, 'try `cedana ps` — now');
    assert.deepEqual(err?.details, ['a', 'b']);
  });

  it('keeps details that are not a JSON array as one line, and uses the code hint when the trailer has none', () => {
    const err = errorFromTrailer(
      { code: 5, details: '', metadata: md({ [ERROR_CODE_KEY]: 'CEDANA_ERR_JOB_NOT_FOUND', [ERROR_DETAILS_KEY]: 'not json' }) },
      'x',
    );
    assert.deepEqual(err?.details, ['not json']);
    assert.equal(err?.hint, 'list jobs with `cedana ps`');
  });

  it("keeps a plugin's code this side does not know, with the trailer's hint and the call's status", () => {
    const err = errorFromTrailer(
      { code: 9, details: '', metadata: md({ [ERROR_CODE_KEY]: 'CEDANA_ERR_RUNC_RUN', [ERROR_HINT_KEY]: 'fix the bundle' }) },
      'runc run failed',
    );
    assert.deepEqual([err?.code, err?.hint, err?.status], ['CEDANA_ERR_RUNC_RUN', 'fix the bundle', 'FAILED_PRECONDITION']);
  });

  it('gives undefined without a trailer or for a code that is no cedana code', () => {
    assert.equal(errorFromTrailer({ code: 14, details: 'No connection established' }, 'x'), undefined);
    assert.equal(errorFromTrailer({ code: 13, details: '', metadata: md({ [ERROR_CODE_KEY]: 'NOT_A_CODE' }) }, 'x'), undefined);
  });
});
