/** Jobs and checkpoints outlive the daemon. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { counterScript, lastCount, waitForCount } from '../harness/counter.js';
import { TestDaemon, waitFor } from '../harness/daemon.js';

interface JobJson {
  jid: string;
  state: { pid: number; status: string };
}

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  await d.stop();
});

it('keeps every job and checkpoint across a restart, and running jobs are running again', async () => {
  const live = join(d.dir, 'live.count');
  const parked = join(d.dir, 'parked.count');
  await d.ok(['run', 'process', '--jid', 'live', '--', ...counterScript(live)]);
  await d.ok(['run', 'process', '--jid', 'parked', '--', ...counterScript(parked)]);
  await waitForCount(parked, 3);
  await d.ok(['dump', 'job', 'parked']);

  await d.restart();

  const jobs = await d.json<JobJson[]>(['ps']);
  assert.equal(jobs.find((j) => j.jid === 'live')?.state.status, 'running');
  assert.equal(jobs.find((j) => j.jid === 'parked')?.state.status, 'checkpointed');
  const checkpoints = await d.json<{ jid: string }[]>(['checkpoints']);
  assert.ok(checkpoints.some((c) => c.jid === 'parked'));

  // The daemon still controls both: kill one, restore the other.
  await d.ok(['job', 'kill', 'live']);
  await waitFor('live exited', async () =>
    (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === 'live')?.state.status === 'exited' ? true : undefined,
  );
  const atDump = await lastCount(parked);
  await d.ok(['restore', 'job', 'parked']);
  await waitForCount(parked, atDump + 2);
  await d.ok(['job', 'kill', 'parked']);
});
