/** A container that runc already runs becomes a managed job, and is checkpointed and restored as one. */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { counts, lastCount, waitForCount } from '../harness/counter.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';
import { containerId, makeBundle, removeAllContainers, removeJobLogs, runcRunDetached, runcState } from '../harness/runc.js';

interface JobJson {
  jid: string;
  type: string;
  log: string;
  state: { pid: number; status: string; exitCode?: number };
  details?: { runc?: { id?: string; root?: string; bundle?: string } };
}

describe('manage runc', () => {
  let d: TestDaemon;
  let root: string;
  before(async () => {
    d = await TestDaemon.start();
    root = join(d.dir, 'runc-root');
  });
  after(async () => {
    removeAllContainers(root);
    await removeJobLogs(d);
    await d.stop();
  });

  const job = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid) as JobJson;

  it('adopts a running container, dumps it and restores it, and the count goes on', async () => {
    const dir = join(d.dir, 'managed');
    const count = join(await makeBundle(dir), 'count');
    const id = containerId('managed');
    runcRunDetached(root, dir, id);
    await waitForCount(count, 3);

    const out = await d.ok(['manage', 'runc', '--id', id, '--root', root, '--jid', 'adopted']);
    assert.match(out, /managing job adopted \(pid \d+\)/);
    const managed = await job('adopted');
    assert.equal(managed.type, 'runc');
    assert.equal(managed.state.pid, runcState(root, id)?.pid);
    assert.deepEqual(managed.details?.runc, { id, root, bundle: dir });

    await d.ok(['dump', 'job', 'adopted']);
    assert.equal((await job('adopted')).state.status, 'checkpointed');
    const atDump = await lastCount(count);
    await sleep(300);
    assert.equal(await lastCount(count), atDump);

    await d.ok(['restore', 'job', 'adopted']);
    assert.equal(runcState(root, id)?.status, 'running');
    await waitForCount(count, atDump + 3);
    const all = await counts(count);
    assert.equal(all[all.lastIndexOf(atDump) + 1], atDump + 1);

    await d.ok(['job', 'kill', 'adopted']);
    await waitFor('job exited', async () => ((await job('adopted')).state.status === 'exited' ? true : undefined));
    const log = (await job('adopted')).log;
    assert.ok(log, 'the restored container writes to a log');
    await d.ok(['job', 'delete', 'adopted']);
    await rm(log, { force: true });
    assert.equal(runcState(root, id), undefined, 'deleting the job removed its stopped container');
  });

  it('notices when an adopted container ends, though its exit code cannot be known', async () => {
    const dir = join(d.dir, 'short');
    // It ends once told to (/data/end), not after a while: under load, managing it took longer than a second.
    const data = await makeBundle(dir, { args: ['sh', '-c', 'while [ ! -e /data/end ]; do sleep 0.1; done; exit 3'] });
    const id = containerId('short');
    runcRunDetached(root, dir, id);
    await d.ok(['manage', 'runc', '--id', id, '--root', root, '--jid', 'short']);
    await writeFile(join(data, 'end'), '');
    const ended = await waitFor('job exited', async () => {
      const j = await job('short');
      return j.state.status === 'exited' ? j : undefined;
    });
    assert.equal(ended.state.exitCode, undefined);
  });
});
