/** Jobs and checkpoints outlive the daemon. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { counterScript, lastCount, waitForCount } from '../harness/counter.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';

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

it('knows the exit code of a restored job that ended while the daemon was down, or after it came back', async () => {
  const flags = [join(d.dir, 'end-while-down'), join(d.dir, 'end-after')];
  const jids = ['while-down', 'after'];
  for (const [i, jid] of jids.entries()) {
    await d.ok(['run', 'process', '--jid', jid, '--', 'sh', '-c', `while [ ! -e ${flags[i]} ]; do sleep 0.1; done; exit ${5 + i}`]);
  }
  await sleep(300);
  for (const jid of jids) {
    await d.ok(['dump', 'job', jid]);
    await d.ok(['restore', 'job', jid]); // now a child of the restore shim, not of the daemon
  }
  const { writeFile } = await import('node:fs/promises');
  await d.stopDaemonOnly();
  await writeFile(flags[0] as string, '');
  await sleep(500);
  await d.restart();
  await writeFile(flags[1] as string, '');
  for (const [i, jid] of jids.entries()) {
    const ended = await waitFor(`${jid} exited`, async () => {
      const j = (await d.json<(JobJson & { state: { exitCode?: number } })[]>(['ps'])).find((x) => x.jid === jid);
      return j?.state.status === 'exited' ? j : undefined;
    });
    assert.equal(ended.state.exitCode, 5 + i, jid);
  }
});
