import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireId, runcDetails, withRuncDetails } from './details.js';

describe('runcDetails', () => {
  it('reads the strings of details.runc and drops empty ones', () => {
    assert.deepEqual(runcDetails({ runc: { id: 'c1', root: '/r', bundle: '', extracted: null }, other: { x: 1 } }), {
      id: 'c1',
      root: '/r',
    });
    assert.deepEqual(runcDetails(undefined), {});
    assert.deepEqual(runcDetails({ criu: {} }), {});
  });

  it('refuses a field of the wrong type, naming it', () => {
    assert.throws(() => runcDetails({ runc: { id: 42 } }), {
      code: 'CEDANA_ERR_INVALID_ARGUMENT',
      message: /details\.runc\.id must be a string, found 42/,
    });
    assert.throws(() => runcDetails({ runc: 'c1' }), { code: 'CEDANA_ERR_INVALID_ARGUMENT', message: /must be an object/ });
  });

  it('refuses a container ID runc would refuse', () => {
    assert.throws(() => runcDetails({ runc: { id: '../etc' } }), {
      code: 'CEDANA_ERR_INVALID_ARGUMENT',
      message: /not a valid container ID/,
    });
    assert.deepEqual(runcDetails({ runc: { id: 'web_1.a+b-c' } }), { id: 'web_1.a+b-c' });
  });

  it('names the flag when the ID is missing', () => {
    assert.throws(() => requireId({}, 'dump'), { message: /cedana dump runc --id ID/ });
  });

  it('replaces details.runc, keeping other plugins’ details and dropping unset fields', () => {
    assert.deepEqual(
      withRuncDetails(
        { gpu: { on: true }, runc: { id: 'old', extracted: '/tmp/x' } },
        { id: 'new', root: '', bundle: '/b', extracted: undefined },
      ),
      {
        gpu: { on: true },
        runc: { id: 'new', bundle: '/b' },
      },
    );
  });
});
