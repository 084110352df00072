import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseShimEvent, shimExitStatus } from './shim-events.js';

describe('shim events', () => {
  it('reads an event line and refuses lines that are not one', () => {
    assert.deepEqual(parseShimEvent('{"event":"started","pid":42,"reaper":1}'), { event: 'started', pid: 42, reaper: 1 });
    assert.equal(parseShimEvent('criu: something went wrong'), undefined);
    assert.equal(parseShimEvent('{"pid":42}'), undefined);
    assert.equal(parseShimEvent('null'), undefined);
    assert.equal(parseShimEvent('"exited"'), undefined);
  });

  it('turns an exited event into an exit status: a code, a signal by name, or unknown', () => {
    assert.deepEqual(shimExitStatus({ event: 'exited', code: 3 }), { code: 3, signal: null });
    assert.deepEqual(shimExitStatus({ event: 'exited', signal: 9 }), { code: null, signal: 'SIGKILL' });
    assert.deepEqual(shimExitStatus({ event: 'exited', unknown: true }), { code: null, signal: null });
  });
});
