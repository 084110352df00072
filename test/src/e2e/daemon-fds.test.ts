/**
 * No process the daemon starts holds a file descriptor of the daemon's database folder
 * (issue 14). LevelDB opens its files without close-on-exec and Node's spawn passes on every
 * such fd: a job that inherits one is dumped with it, and its restore fails with
 * `File .../db/000003.log has bad size`; a helper that inherits one keeps deleted LevelDB
 * files open. The children checked here are the ones a user's jobs meet: CRIU itself (through
 * a criu.binary_path wrapper that records its fds), the restore shim and its restored job,
 * an attachable job's I/O holder, a `run process` job, and the streamer.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, waitFor } from '../harness/daemon.js';

/** Where each fd of `pid` points ([] once it is gone). */
async function fdTargets(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  return Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
}

/** Every process but `except` with an fd into `dir`, as `PID COMMAND -> TARGET` lines. */
async function holdersOf(dir: string, except: number): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === except || pid === process.pid) continue;
    for (const target of await fdTargets(pid)) {
      if (!target.startsWith(`${dir}/`)) continue;
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
      out.push(`${pid} ${cmd} -> ${target}`);
    }
  }
  return out;
}

/** The PIDs whose parent is `pid`. */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (stat && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
  }
  return out;
}

interface JobJson {
  jid: string;
  state: { pid: number; status: string };
}

describe('the children of the daemon hold no fd into its database folder', () => {
  let d: TestDaemon;
  let dbDir: string;
  let criuFds: string;
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp('/tmp/cedana-e2e-fds-');
    criuFds = join(tmp, 'criu-fds');
    await writeFile(criuFds, '');
    // CRIU as the daemon runs it: the wrapper records the fds it was given, then execs criu with them.
    const wrapper = join(tmp, 'criu');
    await writeFile(wrapper, `#!/bin/sh\nfor f in /proc/$$/fd/*; do echo "$1 $(readlink "$f")" >> ${criuFds}; done\nexec criu "$@"\n`);
    await chmod(wrapper, 0o755);
    d = await TestDaemon.start({ CEDANA_CRIU_BINARY_PATH: wrapper });
    dbDir = d.env.CEDANA_DB_PATH as string;
  });
  after(async () => {
    await d?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  const job = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid) as JobJson;

  it('holds LevelDB files open itself (else this test could not tell)', async () => {
    assert.ok(
      (await fdTargets(d.pid)).some((t) => t.startsWith(`${dbDir}/`)),
      `the daemon (PID ${d.pid}) has no fd into ${dbDir}`,
    );
  });

  it('a run process job and an attachable job with its I/O holder', async () => {
    await d.ok(['run', 'process', '--jid', 'plain', '--', 'sleep', '300']);
    await d.ok(['run', 'process', '--jid', 'held', '--attachable', '--', 'sleep', '300']);
    const held = await job('held');
    const holder = Number((await readFile(`/proc/${held.state.pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[1]);
    assert.notEqual(holder, d.pid, 'an attachable job runs under its I/O holder');
    assert.deepEqual(await holdersOf(dbDir, d.pid), []);
  });

  it('CRIU, the restore shim and the restored job', async () => {
    await d.ok(['dump', 'job', 'plain', '--compression', 'none']);
    await d.ok(['restore', 'job', 'plain']);
    const restored = await job('plain');
    assert.equal(restored.state.status, 'running');
    assert.deepEqual(await holdersOf(dbDir, d.pid), []);
    const seen = (await readFile(criuFds, 'utf8')).split('\n').filter(Boolean);
    assert.ok(
      seen.some((l) => l.startsWith('dump ')) && seen.some((l) => l.startsWith('restore ')),
      `the wrapper saw criu dump and restore:\n${seen.join('\n')}`,
    );
    assert.deepEqual(
      seen.filter((l) => l.split(' ')[1]?.startsWith(`${dbDir}/`)),
      [],
      'fds of the daemon database that criu was given',
    );
  });

  it('the streamer', async () => {
    await d.ok(['run', 'process', '--jid', 'streamed', '--', 'sleep', '300']);
    await d.ok(['dump', 'job', 'streamed', '--streams', '1']);
    // After a streamed dump a spare streamer waits for the next one (plugins/streamer/src/spare.ts).
    const streamers = await waitFor('a spare streamer', async () => {
      const found: number[] = [];
      for (const pid of await childrenOf(d.pid)) {
        if ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes('streamer')) found.push(pid);
      }
      return found.length > 0 ? found : undefined;
    });
    assert.ok(streamers.length > 0);
    assert.deepEqual(await holdersOf(dbDir, d.pid), []);
  });
});
