/**
 * `cedana migrate job J --to ADDRESS`: two daemons on this machine as two hosts. The target
 * runs in a network and mount namespace of its own (harness/target-host.ts) and is reached over
 * TCP with its token; a second describe uses a target on a unix socket. A job of the host's PID
 * namespace needs its PID free on the target: the same machine's PIDs, freed by the dump (the
 * restore waits up to 5 s for it). A job run with --pid-ns needs none: it comes back as init of a
 * new PID namespace, its mount namespace rebuilt from the target's own mounts.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attachUntil } from '../harness/attach.js';
import { bigCounter, counterScript, counts, lastCount, waitForCount } from '../harness/counter.js';
import { countingServer } from '../harness/counting-server.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';
import { TargetHost } from '../harness/target-host.js';

interface JobJson {
  jid: string;
  log: string;
  attachable: boolean;
  pidNamespace?: boolean;
  migratedTo?: string;
  state: { pid: number; status: string; startTicks: number };
}

// Per run: two sessions running this file at once would see each other's staged images.
const STAGING = `/dev/shm/cedana-e2e-migrate-src-${process.pid}`;
const BARE_STAGING = `/dev/shm/cedana-e2e-migrate-bare-${process.pid}`;

const jobOf = async (d: { json<T>(a: string[]): Promise<T> }, jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid);

/** Every count is the one before plus one: nothing was lost or repeated, so the job never restarted. */
function assertNoGap(all: number[], what: string): void {
  for (let i = 1; i < all.length; i++) assert.equal(all[i], (all[i - 1] as number) + 1, `${what}: ${all.slice(Math.max(0, i - 3), i + 2)}`);
}

/** The PIDs of `pid` in each namespace, host first (NSpid of /proc/PID/status). */
async function nsPids(pid: number): Promise<number[]> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return (/^NSpid:\s+(.*)$/m.exec(status)?.[1] ?? '').trim().split(/\s+/).map(Number);
}

async function gone(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat === '' || / [ZX] /.test(stat.slice(stat.lastIndexOf(')')));
}

describe('migration to a daemon in its own network and mount namespace, over TCP with its token', () => {
  let src: TestDaemon;
  let t: TargetHost;
  before(async () => {
    await rm(STAGING, { recursive: true, force: true });
    src = await TestDaemon.start({ CEDANA_MIGRATE_DIR: STAGING });
    t = await TargetHost.create();
  });
  after(async () => {
    await t?.destroy();
    await src?.stop();
    await rm(STAGING, { recursive: true, force: true });
  });

  it('refuses a wrong token before anything freezes: the job runs on as it was', async () => {
    const file = join(src.dir, 'token.count');
    await src.ok(['run', 'process', '--jid', 'token', '--', ...counterScript(file)]);
    const before = await jobOf(src, 'token');
    await waitForCount(file, 3);
    const r = await src.cli(['migrate', 'job', 'token', '--to', t.address, '--token', 'wrong']);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_MIGRATE_REFUSED/);
    assert.match(r.stderr, /before anything froze.*CEDANA_ERR_UNAUTHENTICATED/s);
    const now = await jobOf(src, 'token');
    assert.equal(now?.state.status, 'running');
    assert.equal(now?.state.startTicks, before?.state.startTicks, 'the same process: never dumped and restored');
    assert.deepEqual(await src.json<unknown[]>(['checkpoints']), [], 'no dump was made');
    assert.equal(await jobOf(t, 'token'), undefined, 'the target made no job');
    await waitForCount(file, (await lastCount(file)) + 2);
    assertNoGap(await counts(file), 'the counter');
    await src.ok(['job', 'kill', 'token']);
  });

  it('moves a counter that goes on counting there with no gap; the source says where it went', async () => {
    const file = join(src.dir, 'counter.count');
    await src.ok(['run', 'process', '--jid', 'counter', '--', ...counterScript(file)]);
    await waitForCount(file, 5);
    const r = await src.cli(['migrate', 'job', 'counter', '--to', t.address, '--token', t.token]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /migrated job counter to .*: job counter \(PID \d+\) runs there/);
    assert.doesNotMatch(r.stderr, /went over gRPC/, 'the images went over the data connection');
    const atMigration = await lastCount(file);
    await waitForCount(file, atMigration + 5);
    assertNoGap(await counts(file), 'the counter');

    const here = await jobOf(src, 'counter');
    assert.equal(here?.state.status, 'migrated');
    assert.equal(here?.migratedTo, `${t.address} counter`);
    const there = await jobOf(t, 'counter');
    assert.equal(there?.state.status, 'running');
    assert.equal(there?.log, here?.log, 'the job keeps its log path');
    // The target has its own /var/log: the job's log came along (CRIU reopens it there).
    assert.equal((await t.inside(['test', '-f', there?.log ?? ''])).code, 0, `the log ${there?.log} is on the target`);
    assert.deepEqual(await readdir(STAGING), [], 'nothing staged stays on the source');
    assert.equal((await t.inside(['ls', '-A', `${t.root}/migrate`])).stdout, '', 'nothing received stays on the target');
    assert.deepEqual(await src.json<unknown[]>(['checkpoints']), [], 'no checkpoint on the source without --keep');
    await t.ok(['job', 'kill', 'counter']);
  });

  it('moves a job in its own PID namespace (--pid-ns): init of a new one there, on the mounts of the target', async () => {
    const file = join(src.dir, 'pidns.count');
    await src.ok(['run', 'process', '--pid-ns', '--jid', 'pidns', '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    await src.ok(['migrate', 'job', 'pidns', '--to', t.address, '--token', t.token]);
    await waitForCount(file, (await lastCount(file)) + 5);
    assertNoGap(await counts(file), 'the counter');
    const there = await jobOf(t, 'pidns');
    assert.equal(there?.state.status, 'running');
    assert.equal(there?.pidNamespace, true);
    const pid = there?.state.pid ?? 0;
    assert.deepEqual(await nsPids(pid), [pid, 1], 'init of a PID namespace of its own on the target');
    // Its mounts are the target's: /sys shows the target's network devices (its end of the veth), and its cgroups.
    const net = await readdir(`/proc/${pid}/root/sys/class/net`);
    assert.ok(net.some((n) => n.startsWith('vct-')) && !net.some((n) => n.startsWith('vcs-')), `the target's sysfs: ${net}`);
    assert.ok((await readdir(`/proc/${pid}/root/sys/fs/cgroup`)).length > 0, 'and the cgroup hierarchies under it');
    await t.ok(['job', 'kill', 'pidns']);
  });

  it('moves an attachable job: its output reaches `cedana attach` on the target and its log there', async () => {
    const script = 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done';
    await src.ok(['run', 'process', '--jid', 'att', '--attachable', '--', 'sh', '-c', script]);
    await attachUntil(src, 'att', /tick 3/);
    await src.ok(['migrate', 'job', 'att', '--to', t.address, '--token', t.token]);
    const there = await jobOf(t, 'att');
    assert.equal(there?.attachable, true);
    const seen = await attachUntil({ env: t.env() } as TestDaemon, 'att', /tick \d+\n.*tick \d+\n/s);
    const ticks = [...seen.out.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
    assert.ok((ticks[0] ?? 0) > 3, `the ticks go on from before the migration: ${seen.out}`);
    const log = await t.inside(['cat', there?.log ?? '']);
    assert.match(log.stdout, /tick \d+/, "the target's holder writes the job's log");
    await t.ok(['job', 'kill', 'att']);
  });

  it('moves a TCP server that keeps its listening socket and its in-memory count', async () => {
    const server = countingServer(17_803);
    await src.ok(['run', 'process', '--pid-ns', '--jid', 'tcp', '--env', 'UV_USE_IO_URING=0', '--', ...server.argv]);
    await waitFor('server up', server.askHere);
    assert.equal(await server.askHere(), '2');
    await src.ok(['migrate', 'job', 'tcp', '--to', t.address, '--token', t.token]);
    assert.equal(await server.askHere(), undefined, 'nothing listens here any more');
    assert.equal(await waitFor('server there', () => server.askThere(t)), '3', 'the count goes on from 2, in the target namespace');
    await t.ok(['job', 'kill', 'tcp']);
  });

  it('leaves the job running on the source when the target dies mid-transfer, and the target has no half job', async () => {
    const file = join(src.dir, 'big.count');
    await src.ok(['run', 'process', '--jid', 'big', '--', ...bigCounter(file, 256)]);
    await waitForCount(file, 3, 60_000);
    const pid = (await jobOf(src, 'big'))?.state.pid ?? 0;
    const migrating = src.cli(['migrate', 'job', 'big', '--to', t.address, '--token', t.token]);
    // The dump has ended when the dumped process is gone: the images are on their way.
    await waitFor('the dump to end', async () => ((await gone(pid)) ? true : undefined), 60_000);
    await t.killDaemon();
    const r = await migrating;
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_MIGRATE_FAILED/);
    assert.match(r.stderr, /the job runs here again \(PID \d+\)/);
    const here = await jobOf(src, 'big');
    assert.equal(here?.state.status, 'running');
    const atFailure = await lastCount(file);
    await waitForCount(file, atFailure + 3, 20_000);
    assertNoGap(await counts(file), 'the big counter');
    assert.deepEqual(await readdir(STAGING), [], 'the staged images went after the restore here');

    await t.startDaemon();
    assert.equal(await jobOf(t, 'big'), undefined, 'the target made no job');
    assert.equal((await t.inside(['ls', '-A', `${t.root}/migrate`])).stdout, '', 'and kept nothing of what it had received');
    await src.ok(['job', 'kill', 'big']);
  });
});

describe('migration to a daemon on a unix socket', () => {
  let src: TestDaemon;
  let dst: TestDaemon;
  before(async () => {
    src = await TestDaemon.start({ CEDANA_MIGRATE_DIR: '/dev/shm/cedana-e2e-migrate-a' });
    dst = await TestDaemon.start({ CEDANA_MIGRATE_DIR: '/dev/shm/cedana-e2e-migrate-b' });
  });
  after(async () => {
    await dst?.stop();
    await src?.stop();
    for (const d of ['a', 'b']) await rm(`/dev/shm/cedana-e2e-migrate-${d}`, { recursive: true, force: true });
  });

  it('moves a counter under a new JID, and --keep leaves the checkpoint on the source', async () => {
    const file = join(src.dir, 'unix.count');
    await src.ok(['run', 'process', '--jid', 'unix', '--', ...counterScript(file)]);
    await waitForCount(file, 5);
    await src.ok(['migrate', 'job', 'unix', '--to', dst.socket, '--target-jid', 'moved', '--keep']);
    await waitForCount(file, (await lastCount(file)) + 5);
    assertNoGap(await counts(file), 'the counter');
    assert.equal((await jobOf(dst, 'moved'))?.state.status, 'running');
    assert.equal((await jobOf(src, 'unix'))?.migratedTo, `${dst.socket} moved`);
    assert.equal((await src.json<unknown[]>(['checkpoints'])).length, 1, '--keep kept the checkpoint here');
    await dst.ok(['job', 'kill', 'moved']);
  });

  it('refuses a JID the target has already, before anything freezes', async () => {
    await dst.ok(['run', 'process', '--jid', 'taken', '--', 'sleep', '60']);
    const file = join(src.dir, 'taken.count');
    await src.ok(['run', 'process', '--jid', 'taken', '--', ...counterScript(file)]);
    await waitForCount(file, 2);
    const r = await src.cli(['migrate', 'job', 'taken', '--to', dst.socket]);
    assert.match(r.stderr, /CEDANA_ERR_MIGRATE_REFUSED.*a job "taken" exists there already/s);
    assert.equal((await jobOf(src, 'taken'))?.state.status, 'running');
    await sleep(300);
    assertNoGap(await counts(file), 'the counter');
    await src.ok(['job', 'kill', 'taken']);
    await dst.ok(['job', 'kill', 'taken']);
  });
});

describe('migration of a --pid-ns job to a host that lacks a mount the job had', () => {
  let src: TestDaemon;
  let t: TargetHost;
  before(async () => {
    await rm(BARE_STAGING, { recursive: true, force: true });
    src = await TestDaemon.start({ CEDANA_MIGRATE_DIR: BARE_STAGING });
    t = await TargetHost.create({ bareSys: true });
  });
  after(async () => {
    await t?.destroy();
    await src?.stop();
    await rm(BARE_STAGING, { recursive: true, force: true });
  });

  it('is refused there before the restore starts, naming the mount; the job runs on here with no gap', async (c) => {
    // The mounts below this machine's /sys whose place a bare sysfs lacks (the cgroup v1 hierarchies here).
    const mountpoints = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4] ?? '');
    const lacking: string[] = [];
    for (const m of mountpoints.filter((p) => p.startsWith('/sys/'))) if ((await t.inside(['test', '-e', m])).code !== 0) lacking.push(m);
    if (lacking.length === 0) return c.skip('every mountpoint under /sys here exists in a bare sysfs too');
    const file = join(src.dir, 'bare.count');
    await src.ok(['run', 'process', '--pid-ns', '--jid', 'bare', '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    const r = await src.cli(['migrate', 'job', 'bare', '--to', t.address, '--token', t.token]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_MIGRATE_FAILED.*CEDANA_ERR_MOUNT_MISSING/s);
    assert.ok(r.stderr.includes(lacking[0] as string), `names ${lacking[0]}: ${r.stderr}`);
    assert.match(r.stderr, /the job runs here again \(PID \d+\)/);
    assert.equal((await jobOf(src, 'bare'))?.state.status, 'running');
    await waitForCount(file, (await lastCount(file)) + 3);
    assertNoGap(await counts(file), 'the counter');
    assert.equal(await jobOf(t, 'bare'), undefined, 'the target made no job');
    await src.ok(['job', 'kill', 'bare']);
  });
});
