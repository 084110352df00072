import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { criuFailure } from './criu-failure.js';

const run = { exit: 1, signal: null, output: '' };

describe('criuFailure', () => {
  it('names the log’s error line and gives no cause-specific hint when the cause is not a known one', () => {
    const err = criuFailure('CEDANA_ERR_CRIU_DUMP', 'criu dump of PID 7', run, ['(00.1) Error (criu/cr-dump.c:1): oops'], '/l/d.log');
    assert.match(err.message, /criu dump of PID 7 failed \(exit 1\): .*oops/);
    assert.doesNotMatch(err.hint, /setsid/);
    assert.equal(err.details.at(-1), '(full log: /l/d.log)');
  });

  it('says what to do when the session leader is in a parent PID namespace', () => {
    const line = '(00.039947) Error (criu/cr-dump.c:1528): A session leader of 25626(25626) is outside of its pid namespace';
    const err = criuFailure('CEDANA_ERR_CRIU_DUMP', 'criu dump of PID 25626', run, [line], '/l/d.log');
    assert.match(err.hint, /cedana run.*setsid/);
    assert.match(err.hint, /left running/);
  });
});
