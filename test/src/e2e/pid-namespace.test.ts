/**
 * Jobs in their own PID namespace (`run process --pid-ns`, issue 16 item 1): a restore needs
 * no PID of the host, so one checkpoint comes back as two jobs at once, next to the job it
 * was dumped from; right after a dump the restore does not wait for the old PID.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attachUntil } from '../harness/attach.js';
import { counterScript, counts, lastCount, waitForCount } from '../harness/counter.js';
import { TestDaemon, waitFor } from '../harness/daemon.js';

interface JobJson {
  jid: string;
  pidNamespace?: boolean;
  state: { pid: number; status: string; exitCode?: number; exitSignal?: string };
  lastCheckpoint?: { id: string; path: string };
}

/** The PIDs of `pid` in each namespace, host first (NSpid of /proc/PID/status). */
async function nsPids(pid: number): Promise<number[]> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return (/^NSpid:\s+(.*)$/m.exec(status)?.[1] ?? '').trim().split(/\s+/).map(Number);
}

describe('a job in its own PID namespace', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  const job = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid) as JobJson;
  const exited = (jid: string) => waitFor(`${jid} exited`, async () => ((await job(jid)).state.status === 'exited' ? true : undefined));

  it('restores one checkpoint as two jobs at once, beside the job it was dumped from', async () => {
    const file = join(d.dir, 'twice.count');
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'twice', '--', ...counterScript(file)]);
    const orig = await job('twice');
    assert.equal(orig.pidNamespace, true, 'the job record says it has its own PID namespace');
    assert.deepEqual(await nsPids(orig.state.pid), [orig.state.pid, 1], 'ps shows the host PID of the namespace init');
    await waitForCount(file, 3);

    await d.ok(['dump', 'job', 'twice', '--leave-running']);
    const path = (await job('twice')).lastCheckpoint?.path as string;
    const atDump = await lastCount(file);
    // The dumped job still runs with its host PID: a restore into the host's namespace would collide.
    const [r1, r2] = await Promise.all([
      d.cli(['restore', 'process', '--path', path, '-j', 'copy1']),
      d.cli(['restore', 'process', '--path', path, '-j', 'copy2']),
    ]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    const [c1, c2] = [await job('copy1'), await job('copy2')];
    for (const c of [c1, c2]) {
      assert.equal(c.state.status, 'running');
      assert.equal(c.pidNamespace, true);
      assert.deepEqual(await nsPids(c.state.pid), [c.state.pid, 1], `${c.jid} is init of a namespace of its own`);
    }
    assert.equal(new Set([orig.state.pid, c1.state.pid, c2.state.pid]).size, 3, 'three host PIDs');
    // The host's mounts were named, not copied: a restored job shares the host's /dev/shm (a tmpfs).
    assert.ok(!(await readdir(path)).some((f) => f.startsWith('tmpfs-')), 'no tmpfs contents in the checkpoint');
    const shm = `/dev/shm/cedana-pidns-${process.pid}`;
    await writeFile(shm, 'from the host');
    try {
      assert.equal(await readFile(`/proc/${c1.state.pid}/root${shm}`, 'utf8'), 'from the host');
    } finally {
      await rm(shm, { force: true });
    }

    // Each of the three counts on from the checkpoint: every count after it shows up three times.
    const next = atDump + 3;
    await waitFor(`${next} three times`, async () => ((await counts(file)).filter((n) => n === next).length === 3 ? true : undefined));

    await d.ok(['job', 'kill', 'copy1']);
    await exited('copy1');
    assert.equal((await job('copy2')).state.status, 'running', 'killing one copy leaves the other');
    const before = (await counts(file)).length;
    await waitFor('copy2 and the original count on', async () => ((await counts(file)).length >= before + 4 ? true : undefined));
    await d.ok(['job', 'kill', 'copy2']);
    await d.ok(['job', 'kill', 'twice']);
    await exited('copy2');
    await exited('twice');
  });

  it('refuses a restore that binds a mount this host lacks, before anything starts; the checkpoint restores after', async () => {
    const file = join(d.dir, 'mnt.count');
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'mnt', '--', ...counterScript(file)]);
    await waitForCount(file, 2);
    await d.ok(['dump', 'job', 'mnt']);
    const id = (await job('mnt')).lastCheckpoint?.id as string;
    const seen = await d.json<{ manifest: { externalMounts?: { key: string; mountpoint: string }[] } }>(['checkpoint', 'inspect', id]);
    const mounts = seen.manifest.externalMounts ?? [];
    // One mounted once (the images key a mountpoint mounted over, such as /dev/shm here, once), e.g. /sys/fs/cgroup/cpu.
    const one = mounts.find((m) => m.mountpoint.startsWith('/sys/') && mounts.filter((o) => o.mountpoint === m.mountpoint).length === 1);
    assert.ok(one, `the checkpoint names the host's mounts under /sys: ${JSON.stringify(mounts)}`);
    // As on a host without it: the mount mapped to a path that does not exist.
    const missing = join(d.dir, 'no-such-mount');
    const r = await d.cli(['restore', 'job', 'mnt', '--external', `mnt[${one.key}]:${missing}`]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_MOUNT_MISSING/);
    assert.ok(r.stderr.includes(missing), r.stderr);
    assert.equal((await job('mnt')).state.status, 'checkpointed', 'nothing started');
    const atDump = await lastCount(file);
    await d.ok(['restore', 'job', 'mnt']);
    await waitForCount(file, atDump + 2);
    await d.ok(['job', 'kill', 'mnt']);
    await exited('mnt');
  });

  /** Runs a counter, dumps it and restores it at once; the time from the dump's end to the restored job. */
  async function dumpAndRestore(jid: string, flags: string[]): Promise<number> {
    const file = join(d.dir, `${jid}.count`);
    await d.ok(['run', 'process', ...flags, '--jid', jid, '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    await d.ok(['dump', 'job', jid]);
    const atDump = await lastCount(file);
    const t0 = performance.now();
    await d.ok(['restore', 'job', jid]);
    const ms = performance.now() - t0;
    await waitForCount(file, atDump + 2);
    const all = await counts(file);
    assert.equal(all[all.indexOf(atDump) + 1], atDump + 1, `${jid} counts on from the checkpoint`);
    await d.ok(['job', 'kill', jid]);
    await exited(jid);
    return ms;
  }

  it('restores right after the dump, without waiting for the old PID', async () => {
    const retried = /still held by the kernel/;
    const ms = await dumpAndRestore('quick', ['--pid-ns']);
    assert.doesNotMatch(await readFile(join(d.dir, 'daemon.log'), 'utf8'), retried, 'no retry for a PID');
    // For the figure only: the same in the host's PID namespace waits for the kernel to free the PID.
    const hostMs = await dumpAndRestore('quick-host', []);
    console.log(`# dump end -> restored job: ${ms.toFixed(0)} ms with --pid-ns, ${hostMs.toFixed(0)} ms without`);
  });

  it('restores a streamed checkpoint (--streams 2) as two copies', async () => {
    const file = join(d.dir, 'streamed.count');
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'streamed', '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    await d.ok(['dump', 'job', 'streamed', '--streams', '2']);
    const path = (await job('streamed')).lastCheckpoint?.path as string;
    const atDump = await lastCount(file);
    await d.ok(['restore', 'process', '--path', path, '-j', 'streamed1']);
    await d.ok(['restore', 'process', '--path', path, '-j', 'streamed2']);
    const next = atDump + 2;
    await waitFor(`${next} twice`, async () => ((await counts(file)).filter((n) => n === next).length === 2 ? true : undefined));
    for (const jid of ['streamed1', 'streamed2']) {
      await d.ok(['job', 'kill', jid]);
      await exited(jid);
    }
  });

  it('keeps the job across a daemon restart: still its host PID, dump and restore work', async () => {
    const file = join(d.dir, 'restart.count');
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'restart', '--', ...counterScript(file)]);
    const pid = (await job('restart')).state.pid;
    await waitForCount(file, 2);
    await d.restart();
    const again = await job('restart');
    assert.deepEqual([again.state.status, again.state.pid, again.pidNamespace], ['running', pid, true]);
    await d.ok(['dump', 'job', 'restart']);
    const atDump = await lastCount(file);
    await d.ok(['restore', 'job', 'restart']);
    await waitForCount(file, atDump + 2);
    await d.ok(['job', 'kill', 'restart']);
    await exited('restart');
  });

  it('records the exit code or signal of the namespace init as the job’s', async () => {
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'seven', '--', 'sh', '-c', 'sleep 0.3; exit 7']);
    await exited('seven');
    assert.equal((await job('seven')).state.exitCode, 7);
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'nine', '--', 'sleep', '60']);
    await d.ok(['job', 'kill', 'nine']);
    await exited('nine');
    assert.equal((await job('nine')).state.exitSignal, 'SIGKILL', 'a killed init is a killed job');
  });

  it('brings back a process tree joined by a pipe', async () => {
    const file = join(d.dir, 'pipe.count');
    const script = `i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done | while read n; do echo $n >> ${file}; done`;
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'pipe', '--', 'sh', '-c', script]);
    await waitForCount(file, 3);
    await d.ok(['dump', 'job', 'pipe']);
    const atDump = await lastCount(file);
    const id = (await job('pipe')).lastCheckpoint?.id as string;
    const seen = await d.json<{ manifest: { pidNamespace?: boolean }; summary: { processes: { pid: number; ppid: number }[] } }>([
      'checkpoint',
      'inspect',
      id,
    ]);
    assert.equal(seen.manifest.pidNamespace, true, 'the checkpoint says it holds a PID namespace');
    const tree = seen.summary.processes.map((p) => [p.pid, p.ppid]);
    assert.deepEqual(tree[0], [1, 0], 'inspect shows the PIDs inside the namespace, its init first');
    assert.ok(tree.length >= 3 && tree.every(([, ppid]) => ppid === 0 || tree.some(([pid]) => pid === ppid)), JSON.stringify(tree));
    await d.ok(['restore', 'job', 'pipe']);
    await waitForCount(file, atDump + 2);
    const all = await counts(file);
    assert.equal(all[all.indexOf(atDump) + 1], atDump + 1, 'the writer and the reader go on through their pipe');
    await d.ok(['job', 'kill', 'pipe']);
    await exited('pipe');
  });

  it('brings back a TCP server with its listening socket and its count', async () => {
    const port = 17_861;
    const server = `let n = 0; require('net').createServer((s) => { n++; s.end(String(n)); }).listen(${port}, '127.0.0.1');`;
    const ask = () =>
      new Promise<string | undefined>((resolve) => {
        const s = connect(port, '127.0.0.1');
        let got = '';
        s.on('data', (c) => (got += c));
        s.on('end', () => resolve(got));
        s.on('error', () => resolve(undefined));
      });
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'tcp', '--env', 'UV_USE_IO_URING=0', '--', process.execPath, '-e', server]);
    await waitFor('server up', ask);
    assert.equal(await ask(), '2');
    await d.ok(['dump', 'job', 'tcp']);
    await d.ok(['restore', 'job', 'tcp']);
    assert.equal(await waitFor('server back', ask), '3', 'the count goes on from 2');
    await d.ok(['job', 'kill', 'tcp']);
    await exited('tcp');
  });

  it('brings back sqlite holding a lock and an mmap of a deleted file', async () => {
    const db = join(d.dir, 'locks.db');
    const out = join(d.dir, 'locks.out');
    const script = [
      'import sqlite3, mmap, os, time',
      `c = sqlite3.connect(${JSON.stringify(db)}, isolation_level=None)`,
      'c.execute("create table if not exists t (n integer)")',
      'c.execute("begin exclusive")',
      `p = ${JSON.stringify(join(d.dir, 'scratch'))}`,
      'f = open(p, "w+b"); f.write(b"x" * 4096); f.flush(); m = mmap.mmap(f.fileno(), 4096); os.unlink(p)',
      'i = 0',
      'while True:',
      '    i += 1; c.execute("insert into t values (?)", (i,)); m[0:8] = b"%08d" % i',
      `    open(${JSON.stringify(out)}, "a").write("%d %s\\n" % (c.execute("select count(*) from t").fetchone()[0], m[0:8].decode())); time.sleep(0.1)`,
    ].join('\n');
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'locks', '--', 'python3', '-c', script]);
    const lines = async () => (await readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    await waitFor('sqlite counting', async () => ((await lines()).length >= 3 ? true : undefined));
    await d.ok(['dump', 'job', 'locks', '--file-locks', '--link-remap']);
    const atDump = (await lines()).length;
    await d.ok(['restore', 'job', 'locks']);
    await waitFor('sqlite counting again', async () => ((await lines()).length >= atDump + 2 ? true : undefined));
    const last = (await lines()).at(-1) as string;
    const [rows, mapped] = last.split(' ').map(Number);
    assert.equal(rows, mapped, 'the open transaction and the mapped deleted file both came back');
    assert.ok((rows as number) > atDump, `counts on past ${atDump}: ${last}`);
    await d.ok(['job', 'kill', 'locks']);
    await exited('locks');
  });

  it('attaches to an attachable job before and after a restore', async () => {
    const echo = 'while read l; do echo "got $l"; done';
    await d.ok(['run', 'process', '--pid-ns', '--attachable', '--jid', 'att', '--', 'sh', '-c', echo]);
    assert.equal((await job('att')).pidNamespace, true);
    assert.match((await attachUntil(d, 'att', /got one/, 'one\n')).out, /got one/);
    await d.ok(['dump', 'job', 'att']);
    await d.ok(['restore', 'job', 'att']);
    assert.match((await attachUntil(d, 'att', /got two/, 'two\n')).out, /got two/);
    await d.ok(['job', 'kill', 'att']);
    await exited('att');
  });
});

describe('jobs.pid_namespace', () => {
  it('runs every process job in its own PID namespace when set', async () => {
    const d = await TestDaemon.start({ CEDANA_JOBS_PID_NAMESPACE: 'true' });
    try {
      const flag = join(d.dir, 'go');
      await d.ok(['run', 'process', '--jid', 'dflt', '--', 'sh', '-c', `while [ ! -e ${flag} ]; do sleep 0.1; done`]);
      await d.ok(['run', 'process', '--no-pid-ns', '--jid', 'host', '--', 'sh', '-c', `while [ ! -e ${flag} ]; do sleep 0.1; done`]);
      const jobs = await d.json<JobJson[]>(['ps']);
      const dflt = jobs.find((j) => j.jid === 'dflt') as JobJson;
      const host = jobs.find((j) => j.jid === 'host') as JobJson;
      assert.equal(dflt.pidNamespace, true);
      assert.deepEqual(await nsPids(dflt.state.pid), [dflt.state.pid, 1]);
      assert.notEqual(host.pidNamespace, true, '--no-pid-ns overrides the config');
      assert.deepEqual(await nsPids(host.state.pid), [host.state.pid]);
      await writeFile(flag, '');
    } finally {
      await d.stop();
    }
  });
});
