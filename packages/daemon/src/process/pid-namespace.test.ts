import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { externalMounts, namespaceInit, ownMountNamespace, ownPidNamespace, pidNamespaceExec } from './pid-namespace.js';

describe('pidNamespaceExec and namespaceInit', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('starts the program as PID 1 of new PID and mount namespaces, a session leader with only the log open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pidns-'));
    dirs.push(dir);
    const log = join(dir, 'out.log');
    const exec = pidNamespaceExec('/bin/sh', ['-c', 'echo "pid $$"; ls /proc | grep -c "^[0-9]"; exec sleep 30'], log);
    const unshare = spawn(exec.file, exec.args, { detached: true, stdio: 'ignore' });
    try {
      const init = await namespaceInit(unshare.pid as number, 'sh');
      assert.equal(await ownPidNamespace(init), true);
      assert.equal(await ownMountNamespace(init), true);
      const info = await readFile(`/proc/${init}/mountinfo`, 'utf8');
      assert.doesNotMatch(info, / - nsfs /, 'no nsfs mount (ip netns) is left for CRIU to fail on');
      assert.equal(info.split('\n').filter((l) => l.split(' ')[4] === '/proc').length, 1, "one /proc: the namespace's");
      const mounts = await externalMounts(init);
      assert.ok(
        mounts.some((m) => m.mountpoint === '/dev'),
        JSON.stringify(mounts),
      );
      assert.ok(!mounts.some((m) => m.mountpoint === '/' || m.mountpoint === '/proc'), 'its root and its /proc are its own');
      assert.equal(new Set(mounts.map((m) => m.key)).size, mounts.length, 'one key a mount');
      const stat = await readFile(`/proc/${init}/stat`, 'utf8');
      assert.equal(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]), init, 'its own session');
      assert.equal(await readlink(`/proc/${init}/fd/0`), '/dev/null');
      assert.equal(await readlink(`/proc/${init}/fd/1`), log);
      const { readdir } = await import('node:fs/promises');
      // Until sh has exec'd sleep, its `ls | grep` pipeline may hold a pipe's fd.
      const comm = async () => (await readFile(`/proc/${init}/comm`, 'utf8').catch(() => '')).trim();
      for (let i = 0; i < 200 && (await comm()) !== 'sleep'; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual((await readdir(`/proc/${init}/fd`)).sort(), ['0', '1', '2']);
      const seen = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n');
      for (let i = 0; i < 100 && (await seen()).length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      const [pidLine, procCount] = await seen();
      assert.equal(pidLine, 'pid 1');
      assert.ok(Number(procCount) <= 3, `its /proc shows only its own processes: ${procCount}`);
      process.kill(init, 'SIGKILL');
      const [code, signal] = await once(unshare, 'exit');
      assert.deepEqual([code, signal], [null, 'SIGKILL'], 'its parent ends as its init did');
    } finally {
      try {
        process.kill(unshare.pid as number, 'SIGKILL');
      } catch {}
    }
  });

  it('says the daemon itself is in no PID namespace of its own', async () => {
    assert.equal(await ownPidNamespace(process.pid), false);
    assert.equal(await ownMountNamespace(process.pid), false);
  });

  it("names a job that ended before it was seen by unshare, whose exit status is the job's", async () => {
    const exec = pidNamespaceExec('/bin/true', [], undefined);
    const unshare = spawn(exec.file, exec.args, { stdio: 'ignore' });
    const [code] = await once(unshare, 'exit');
    assert.equal(code, 0);
    assert.equal(await namespaceInit(unshare.pid as number, 'true'), unshare.pid);
  });
});
