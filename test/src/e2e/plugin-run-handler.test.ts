/**
 * A plugin's RunHandler starts its job with the SDK's spawnJob (issue 14): the process holds
 * no fd of the daemon's (none into the LevelDB folder, which CRIU would dump and then fail to
 * restore: `File .../db/000003.log has bad size`), runs in its own session, and is dumped
 * and restored like a `run process` job.
 */
import assert from 'node:assert/strict';
import { readdir, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDaemon } from '../harness/daemon.js';
import { writePluginPackage } from '../harness/plugin-package.js';

const ENTRY = `import { spawnJob } from '@cedana/plugin-sdk';
export default {
  name: 'sleeper',
  version: '1.0.0',
  features: {
    RunCmd: { describe: 'run a sleeping shell loop (test plugin)' },
    RunHandler: async (ctx, req, res) => {
      const job = await spawnJob('sh', ['-c', 'while :; do sleep 1; done'], { log: req.log });
      res.pid = job.pid;
      return job;
    },
  },
};
`;

/** Where each fd of `pid` points. */
async function fdTargets(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`);
  return Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
}

describe('a job started by a plugin RunHandler through spawnJob', () => {
  let d: TestDaemon;
  let dbDir: string;
  before(async () => {
    d = await TestDaemon.start();
    d.env.CEDANA_PLUGINS_DIR = join(d.dir, 'plugins');
    await d.restart(); // with its own plugins folder
    dbDir = d.env.CEDANA_DB_PATH as string;
    const criu = await d.cli(['plugin', 'install', 'criu', '--registry', '']);
    assert.equal(criu.code, 0, criu.stderr);
    const folder = await writePluginPackage(d.dir, { plugin: 'sleeper', entry: ENTRY });
    const r = await d.cli(['plugin', 'install', folder]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /daemon: sleeper 1\.0\.0 loaded/);
  });
  after(async () => {
    await d?.stop();
    await rm(d?.dir ?? '/nonexistent', { recursive: true, force: true });
  });

  it('holds no fd into the daemon database folder, while the daemon does', async () => {
    assert.ok(
      (await fdTargets(d.pid)).some((t) => t.startsWith(dbDir)),
      'the daemon holds LevelDB files open (else this test could not tell)',
    );
    await d.ok(['run', 'sleeper', '--jid', 'slept']);
    const [job] = await d.json<{ type: string; state: { pid: number } }[]>(['ps']);
    assert.equal(job?.type, 'sleeper');
    const pid = job?.state.pid as number;
    const leaked = (await fdTargets(pid)).filter((t) => t.startsWith(dbDir));
    assert.deepEqual(leaked, [], `PID ${pid} has fds into ${dbDir}`);
    assert.deepEqual((await readdir(`/proc/${pid}/fd`)).sort(), ['0', '1', '2']);
  });

  it('is dumped and restored', async () => {
    const dumped = await d.cli(['dump', 'job', 'slept', '--compression', 'none']);
    assert.equal(dumped.code, 0, dumped.stderr);
    const restored = await d.cli(['restore', 'job', 'slept']);
    assert.equal(restored.code, 0, restored.stderr);
    const [job] = await d.json<{ state: { status: string; pid: number } }[]>(['ps']);
    assert.equal(job?.state.status, 'running');
    process.kill(job?.state.pid as number, 0); // alive
  });
});
