import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detailLines, headlineError } from './criu-log.js';

const RESTORE_LOG = [
  '(00.000010) Version: 4.2.1 (gitid 0)',
  "(00.001000) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted",
  '(00.039233) Creating process using clone3()',
  "(00.039566) Error (criu/cr-restore.c:1237): Can't fork for 8921: File exists",
  '(00.039595) Error (criu/cr-restore.c:2331): Restoring FAILED.',
];

test('picks the specific error, not the rlimit line nor the closing summary', () => {
  assert.equal(headlineError(RESTORE_LOG), "Can't fork for 8921: File exists");
});

test('falls back to the summary line when it is the only error', () => {
  assert.equal(headlineError(['(00.1) Error (criu/cr-dump.c:1975): Dumping FAILED.']), 'Dumping FAILED.');
});

test('has no headline for a log without errors', () => {
  assert.equal(
    headlineError(['(00.1) Version: 4.2.1', "(00.2) Error (criu/util.c:1): rlimit: Can't setup RLIMIT_NOFILE for self"]),
    undefined,
  );
});

test('details are the relevant error lines, or the tail when there are none', () => {
  assert.deepEqual(detailLines(RESTORE_LOG), RESTORE_LOG.slice(3));
  const plain = Array.from({ length: 30 }, (_, i) => `line ${i}`);
  assert.deepEqual(detailLines(plain), plain.slice(-15));
});
