import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExitStatus } from '@cedana/core';
import { JobLocks } from './job-locks.js';

const refusedBusy = (err: unknown) => (err as { code?: string }).code === 'CEDANA_ERR_JOB_BUSY';

describe('job locks', () => {
  it('refuses a second dump or restore of a job while one holds it, and frees it after', async () => {
    const locks = new JobLocks(async () => {});
    let release: () => void = () => {};
    const first = locks.withJobLock('j', () => new Promise<void>((r) => (release = r)));
    await assert.rejects(
      locks.withJobLock('j', async () => {}),
      refusedBusy,
    );
    release();
    await first;
    assert.equal(await locks.withJobLock('j', async () => 'again'), 'again');
  });

  it('refuses a second dump of a PID while one runs', async () => {
    const locks = new JobLocks(async () => {});
    await locks.withPidLock(42, async () => {
      await assert.rejects(
        locks.withPidLock(42, async () => {}),
        refusedBusy,
      );
    });
    await locks.withPidLock(42, async () => {});
  });

  it('hands an exit that came while the job was locked to the callback once the lock is released', async () => {
    const seen: [string, ExitStatus][] = [];
    const locks = new JobLocks(async (jid, s) => {
      seen.push([jid, s]);
    });
    await locks
      .withJobLock('j', async (rt) => {
        rt.pendingExit = { code: 1, signal: null };
        assert.deepEqual(seen, []);
        throw new Error('the dump failed');
      })
      .catch(() => {});
    assert.deepEqual(seen, [['j', { code: 1, signal: null }]]);
  });
});
