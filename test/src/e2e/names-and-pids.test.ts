/**
 * Issue 13: JIDs and checkpoint names follow one rule, for the CLI and for any other
 * client of the daemon; PID 1, the daemon and the processes it runs under are never dumped.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wire } from '@cedana/core';
import { CriuOpts, credentials, DaemonClient } from '@cedana/core/proto';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { counterScript, lastCount, waitForCount } from '../harness/counter.js';
import { TestDaemon } from '../harness/daemon.js';

const BAD_NAMES = { 'a path out': '../../x', '10 KB': 'j'.repeat(10_240), 'a newline': 'a\nb' };
const RULE = /1 to 128 characters of A-Z a-z 0-9 \. _ -/;

let d: TestDaemon;
let client: DaemonClient;
let sleeper: ChildProcess;
before(async () => {
  d = await TestDaemon.start();
  client = new DaemonClient(`unix://${d.socket}`, credentials.createInsecure());
  sleeper = spawn('sleep', ['300'], { stdio: 'ignore', detached: true });
});
after(async () => {
  client.close();
  sleeper.kill('SIGKILL');
  await d.stop();
});

/** The error code a raw gRPC call fails with (a client that is not the CLI). */
function codeOf(call: (cb: (err: ServiceError | null) => void) => unknown): Promise<string> {
  return new Promise((resolve) => {
    call((err) => resolve(err ? String((err.metadata as Metadata).get(wire.ERROR_CODE_KEY)[0] ?? err.message) : 'OK'));
  });
}

/** The sorted names in `dir`, [] while it does not exist. */
const filesIn = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();

/** The parent PID of `pid`, from /proc. */
async function parentOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const jids = async () => (await d.json<{ jid: string }[]>(['ps'])).map((j) => j.jid);

describe('JIDs', () => {
  for (const [what, jid] of Object.entries(BAD_NAMES)) {
    it(`the CLI refuses a JID with ${what} for run, manage and restore -j, with exit code 2 and the rule`, async () => {
      for (const args of [
        ['run', 'process', '-j', jid, '--', 'true'],
        ['manage', 'process', '--pid', String(sleeper.pid), '-j', jid],
        ['restore', 'process', '--path', join(d.dir, 'no-checkpoint'), '-j', jid],
      ]) {
        const r = await d.cli(args);
        assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, /CEDANA_ERR_INVALID_NAME/, args[0]);
        assert.match(r.stderr, RULE, `${args[0]} says the rule`);
        assert.ok(r.stderr.length < 2000, `${args[0]} does not echo all 10 KB`);
      }
      assert.deepEqual(await jids(), [], 'no job was made');
    });

    it(`the daemon refuses a JID with ${what} from any client, for run, manage and restore`, async () => {
      const process = { args: ['true'], env: [], workingDir: '' };
      assert.equal(
        await codeOf((cb) =>
          client.run({ jid, type: 'process', process, log: '', attachable: false, gpuEnabled: false, details: undefined }, cb),
        ),
        'CEDANA_ERR_INVALID_NAME',
        'run',
      );
      assert.equal(
        await codeOf((cb) =>
          client.manage({ jid, type: 'process', pid: sleeper.pid as number, gpuEnabled: false, details: undefined }, cb),
        ),
        'CEDANA_ERR_INVALID_NAME',
        'manage',
      );
      const path = join(d.dir, 'no-checkpoint');
      assert.equal(
        await codeOf((cb) =>
          client.restore(
            { jid, path, checkpointId: '', type: 'process', attachable: false, log: '', criu: undefined, details: undefined },
            cb,
          ),
        ),
        'CEDANA_ERR_INVALID_NAME',
        'restore',
      );
      assert.deepEqual(await jids(), [], 'no job was made');
      const ps = await d.ok(['ps']);
      assert.equal(ps.trim().split('\n').length, 1, `the ps table is only its header:\n${ps}`);
    });
  }

  it('looks up an unknown bad JID as "not found", making no path of it', async () => {
    for (const args of [
      ['dump', 'job', '../../x'],
      ['job', 'kill', '../../x'],
    ]) {
      const r = await d.cli(args);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /CEDANA_ERR_JOB_NOT_FOUND/);
    }
  });
});

describe('checkpoint --name', () => {
  it('refuses --name ../x in the CLI and in the daemon, and writes nothing outside the checkpoint folder', async () => {
    const file = join(d.dir, 'named.count');
    await d.ok(['run', 'process', '--jid', 'named', '--', ...counterScript(file)]);
    await waitForCount(file, 2);
    const before = (await readdir(d.dir)).sort();
    const r = await d.cli(['dump', 'job', 'named', '--name', '../x', '--leave-running']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /CEDANA_ERR_INVALID_NAME/);
    assert.match(r.stderr, RULE);
    const raw = await codeOf((cb) =>
      client.dump(
        {
          jid: 'named',
          type: '',
          pid: 0,
          dir: '',
          name: '../x',
          compression: '',
          criu: CriuOpts.create({ leaveRunning: true }),
          details: undefined,
        },
        cb,
      ),
    );
    assert.equal(raw, 'CEDANA_ERR_INVALID_NAME');
    assert.deepEqual((await readdir(d.dir)).sort(), before, `nothing new beside the checkpoint folder in ${d.dir}`);
    await waitForCount(file, (await lastCount(file)) + 1);
    await d.ok(['dump', 'job', 'named', '--name', 'named.ok-1', '--leave-running']);
    assert.ok(
      (await readdir(join(d.dir, 'checkpoints'))).some((n) => n.startsWith('named.ok-1')),
      'a good --name is used as given',
    );
    await d.ok(['job', 'kill', 'named']);
  });
});

describe('protected processes', () => {
  it("refuses to dump PID 1, the daemon's own PID, or a process the daemon runs under", async () => {
    const folder = join(d.dir, 'checkpoints');
    const before = { checkpoints: (await d.json<unknown[]>(['checkpoints'])).length, files: await filesIn(folder) };
    // This test process started the daemon: it is the daemon's parent.
    for (const pid of [1, d.pid, process.pid]) {
      const r = await d.cli(['dump', 'process', String(pid), '--leave-running']);
      assert.equal(r.code, 1, `PID ${pid}: ${r.stdout}`);
      assert.match(r.stderr, /CEDANA_ERR_PROTECTED_PROCESS/, `PID ${pid}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`PID ${pid}\\b`));
    }
    assert.equal((await d.json<unknown[]>(['checkpoints'])).length, before.checkpoints, 'no checkpoint was made');
    assert.deepEqual(await filesIn(folder), before.files, 'nothing was left in the checkpoint folder');
  });

  it('refuses to dump a helper of the daemon: the restore shim that holds a restored job', async () => {
    const file = join(d.dir, 'helped.count');
    await d.ok(['run', 'process', '--jid', 'helped', '--', ...counterScript(file)]);
    await waitForCount(file, 2);
    await d.ok(['dump', 'job', 'helped']);
    await d.ok(['restore', 'job', 'helped']);
    const job = (await d.json<{ jid: string; state: { pid: number } }[]>(['ps'])).find((j) => j.jid === 'helped');
    const shim = await parentOf(job?.state.pid as number);
    assert.equal(await parentOf(shim), d.pid, 'the restored job runs under a child of the daemon');
    const r = await d.cli(['dump', 'process', String(shim), '--leave-running']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_PROTECTED_PROCESS/);
    assert.match(r.stderr, /helper/);
    await waitForCount(file, (await lastCount(file)) + 1);
    await d.ok(['dump', 'process', String(job?.state.pid), '--leave-running']); // the job itself may be dumped
    await d.ok(['job', 'kill', 'helped']);
  });

  it('refuses to manage PID 1 or the daemon', async () => {
    for (const pid of [1, d.pid]) {
      const r = await d.cli(['manage', 'process', '--pid', String(pid)]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /CEDANA_ERR_PROTECTED_PROCESS/);
    }
  });
});
