/** `cedana manage process`: adopt a process the daemon did not start, then checkpoint and restore it. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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

it('manages a running PID as a job: dump, restore, and its exit is noticed', async () => {
  const file = join(d.dir, 'adopted.count');
  const [cmd, ...args] = counterScript(file);
  const child = spawn(cmd as string, args, { detached: true, stdio: 'ignore' });
  child.unref();
  await waitForCount(file, 2);
  await d.ok(['manage', 'process', '--pid', String(child.pid), '--jid', 'adopted']);
  const job = async () => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === 'adopted');
  assert.equal((await job())?.state.pid, child.pid);
  assert.equal((await job())?.state.status, 'running');

  await d.ok(['dump', 'job', 'adopted']);
  const atDump = await lastCount(file);
  await d.ok(['restore', 'job', 'adopted']);
  await waitForCount(file, atDump + 2);

  await d.ok(['job', 'kill', 'adopted']);
  await waitFor('exit noticed', async () => ((await job())?.state.status === 'exited' ? true : undefined));
});

it('refuses to manage a PID that does not exist', async () => {
  const r = await d.cli(['manage', 'process', '--pid', '999999']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /CEDANA_ERR_PROCESS_NOT_FOUND/);
});
