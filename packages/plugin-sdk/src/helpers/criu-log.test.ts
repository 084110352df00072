import assert from 'node:assert/strict';
import { it } from 'node:test';
import { criuErrors, criuHeadline } from './criu-log.js';

it('takes the telling line of a CRIU log, not the rlimit noise or the closing summary', () => {
  const log = [
    "(00.023708) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted",
    '(00.045000) some info',
    "(00.045668)      1: Error (criu/mount.c:2955): mnt: Can't create a temporary directory: Read-only file system",
    '(00.046563) Error (criu/cr-restore.c:2331): Restoring FAILED.',
    '(00.047470) Error (criu/cgroup.c:2055): cg: cgroupd: recv req error: No such file or directory',
  ].join('\n');
  const lines = criuErrors(log);
  assert.equal(lines.length, 3);
  assert.equal(criuHeadline(lines), "mnt: Can't create a temporary directory: Read-only file system");
  assert.equal(criuHeadline([]), undefined);
});
