/** checkpoint.keep: after each dump of a job, only its last K checkpoints remain, on disk and in `cedana checkpoints`. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { counterScript, lastCount, waitForCount } from '../harness/counter.js';
import { TestDaemon, waitFor } from '../harness/daemon.js';

interface CheckpointJson {
  id: string;
  jid: string;
  path: string;
}

describe('retention (checkpoint.keep)', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ CEDANA_CHECKPOINT_KEEP: '2' });
  });
  after(async () => {
    await d.stop();
  });

  const checkpoints = (jid: string) => d.json<CheckpointJson[]>(['checkpoints', jid]);

  it('keeps the last 2 checkpoints of each job, removing older ones and their files, and restores the newest', async () => {
    const file = join(d.dir, 'kept.count');
    await d.ok(['run', 'process', '--jid', 'kept', '--', ...counterScript(file)]);
    await d.ok(['run', 'process', '--jid', 'other', '--', 'sleep', '1000']);
    await d.ok(['dump', 'job', 'other', '--leave-running', '--compression', 'tar']);
    await waitForCount(file, 2);

    const made: CheckpointJson[] = [];
    for (const compression of ['none', 'zstd', 'lz4', 'zstd']) {
      const r = await d.cli(['dump', 'job', 'kept', '--leave-running', '--compression', compression]);
      assert.equal(r.code, 0, r.stderr);
      const mine = await checkpoints('kept');
      const newest = mine.at(-1) as CheckpointJson;
      made.push(newest);
      assert.equal(mine.length, Math.min(made.length, 2), `after dump ${made.length}`);
      if (made.length > 2) {
        const gone = made[made.length - 3] as CheckpointJson;
        assert.match(r.stderr, new RegExp(`deleted checkpoint ${gone.id} .*checkpoint\\.keep=2`));
        assert.equal(existsSync(gone.path), false, `${gone.path} is removed`);
      }
    }
    assert.deepEqual(
      (await checkpoints('kept')).map((c) => c.id),
      made.slice(-2).map((c) => c.id),
    );
    for (const c of made.slice(-2)) assert.ok(existsSync(c.path), `${c.path} is kept`);
    assert.equal((await checkpoints('other')).length, 1, "another job's checkpoints are not touched");

    await d.ok(['job', 'kill', 'kept']);
    await waitFor('kept exited', async () =>
      (await d.json<{ jid: string; state: { status: string } }[]>(['ps'])).find((j) => j.jid === 'kept')?.state.status === 'exited'
        ? true
        : undefined,
    );
    const before = await lastCount(file);
    await d.ok(['restore', 'job', 'kept']);
    await waitForCount(file, before + 1);
    await d.ok(['job', 'kill', 'kept']);
    await d.ok(['job', 'kill', 'other']);
  });
});
