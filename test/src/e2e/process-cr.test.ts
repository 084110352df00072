/** Run, checkpoint and restore a real process through the CLI, the daemon and CRIU. */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMPRESSIONS } from '@cedana/core';
import { counterScript, counts, lastCount, waitForCount } from '../harness/counter.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';

interface JobJson {
  jid: string;
  type: string;
  state: { pid: number; status: string; exitCode?: number };
  lastCheckpoint?: { path: string; compression: string; size: number };
}

describe('a managed process goes on where it stopped', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  const job = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid) as JobJson;

  for (const compression of COMPRESSIONS) {
    it(`resumes the counter after dump and restore with --compression ${compression}`, async () => {
      const jid = `counter-${compression}`;
      const file = join(d.dir, `${jid}.count`);
      await d.ok(['run', 'process', '--jid', jid, '--', ...counterScript(file)]);
      const pid = (await job(jid)).state.pid;
      await waitForCount(file, 5);

      await d.ok(['dump', 'job', jid, '--compression', compression]);
      const dumped = await job(jid);
      assert.equal(dumped.state.status, 'checkpointed');
      assert.equal(dumped.lastCheckpoint?.compression, compression);
      const atDump = await lastCount(file);
      await sleep(300);
      assert.equal(await lastCount(file), atDump, 'the process must be gone after a dump without --leave-running');
      if (compression !== 'none') assert.ok((await stat(dumped.lastCheckpoint?.path ?? '')).isFile(), 'an archive file');

      await d.ok(['restore', 'job', jid]);
      const restored = await job(jid);
      assert.equal(restored.state.status, 'running');
      assert.equal(restored.state.pid, pid, 'CRIU restores the original PID');
      await waitForCount(file, atDump + 3);
      const all = await counts(file);
      assert.equal(all[all.indexOf(atDump) + 1], atDump + 1, 'the next count follows the last one before the dump, not 1');

      await d.ok(['job', 'kill', jid]);
      await waitFor('job exited', async () => ((await job(jid)).state.status === 'exited' ? true : undefined));
    });
  }

  it('keeps the job running with --leave-running, and the checkpoint restores its state later', async () => {
    const jid = 'counter-leave';
    const file = join(d.dir, `${jid}.count`);
    await d.ok(['run', 'process', '--jid', jid, '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    await d.ok(['dump', 'job', jid, '--leave-running']);
    const atDump = await lastCount(file);
    assert.equal((await job(jid)).state.status, 'running');
    await waitForCount(file, atDump + 3);

    await d.ok(['job', 'kill', jid]);
    await waitFor('job exited', async () => ((await job(jid)).state.status === 'exited' ? true : undefined));
    await d.ok(['restore', 'job', jid]);
    const after = await lastCount(file);
    await waitForCount(file, after + 2);
    const all = await counts(file);
    // The restored process counts on from the checkpoint's count, so a number repeats.
    assert.ok(all.slice(all.indexOf(after) + 1).includes(atDump + 1), `counting resumed from ${atDump}`);
    await d.ok(['job', 'kill', jid]);
  });

  it('restores a checkpoint path as a new job with the JID it is given', async () => {
    const file = join(d.dir, 'orig.count');
    await d.ok(['run', 'process', '--jid', 'orig', '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    await d.ok(['dump', 'job', 'orig', '--leave-running']);
    const path = (await job('orig')).lastCheckpoint?.path as string;
    await d.ok(['job', 'kill', 'orig']);
    await waitFor('orig exited', async () => ((await job('orig')).state.status === 'exited' ? true : undefined));

    const r = await d.cli(['restore', 'process', '--path', path, '--jid', 'copy', '--log', join(d.dir, 'elsewhere.log')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /writes to .* as before/, 'says --log cannot redirect a restored process');
    const jobs = await d.json<(JobJson & { log: string })[]>(['ps']);
    const copy = jobs.find((j) => j.jid === 'copy');
    assert.equal(copy?.state.status, 'running');
    assert.equal(copy?.log, jobs.find((j) => j.jid === 'orig')?.log, 'the log it really writes to');
    await waitForCount(file, (await lastCount(file)) + 1);
    await d.ok(['job', 'kill', 'copy']);
  });

  it('records the exit code of a restored process', async () => {
    const jid = 'exit-code';
    const flag = join(d.dir, 'exit-now');
    await d.ok(['run', 'process', '--jid', jid, '--', 'sh', '-c', `while [ ! -e ${flag} ]; do sleep 0.1; done; exit 7`]);
    await sleep(300);
    await d.ok(['dump', 'job', jid]);
    await d.ok(['restore', 'job', jid]);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(flag, '');
    const ended = await waitFor('job exited', async () => {
      const j = await job(jid);
      return j.state.status === 'exited' ? j : undefined;
    });
    assert.equal(ended.state.exitCode, 7);
  });

  it('lists the checkpoints it made', async () => {
    const list = await d.json<{ jid: string; compression: string }[]>(['checkpoints']);
    for (const c of COMPRESSIONS) {
      assert.ok(
        list.some((x) => x.jid === `counter-${c}` && x.compression === c),
        `a ${c} checkpoint of counter-${c}`,
      );
    }
  });
});
