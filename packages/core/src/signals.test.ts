import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signalName, signalNumber } from './signals.js';

describe('signalNumber and signalName', () => {
  it('reads a signal given as SIGTERM, term or 15, in any case', () => {
    assert.equal(signalNumber('SIGTERM'), 15);
    assert.equal(signalNumber('term'), 15);
    assert.equal(signalNumber('Term'), 15);
    assert.equal(signalNumber('sigkill'), 9);
    assert.equal(signalNumber('9'), 9);
  });

  it('round-trips names and numbers', () => {
    for (const name of ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP', 'SIGUSR1']) {
      const n = signalNumber(name);
      assert.ok(n !== undefined, name);
      assert.equal(signalName(n), name);
    }
    assert.equal(signalName(signalNumber('term') ?? 0), 'SIGTERM');
    assert.equal(signalNumber(signalName(9)), 9);
  });

  it('gives undefined for an unknown name and SIG<n> for an unknown number', () => {
    assert.equal(signalNumber('NOPE'), undefined);
    assert.equal(signalNumber(''), undefined);
    assert.equal(signalName(200), 'SIG200');
  });
});
