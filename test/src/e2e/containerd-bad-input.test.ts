/**
 * Bad input to the containerd plugin: each gets a clear error with its code, and nothing
 * is lost (a failed dump leaves the task running, a failed restore leaves the checkpoint
 * and no container behind).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IMAGE, TestContainerd } from '../harness/containerd.js';
import { lastCount, waitForCount } from '../harness/counter.js';
import { type CliResult, TestDaemon, waitFor } from '../harness/daemon.js';
import { containerId, removeJobLogs } from '../harness/runc.js';

const COUNTER = ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done'];

function failsWith(r: CliResult, code: string, message?: RegExp): void {
  assert.equal(r.code, 1, `exit 1, got ${r.code}: ${r.stderr}${r.stdout}`);
  assert.match(r.stderr, new RegExp(code), r.stderr);
  if (message) assert.match(r.stderr, message);
}

describe('containerd bad input', () => {
  let c: TestContainerd;
  let d: TestDaemon;
  before(async () => {
    c = await TestContainerd.start();
    d = await TestDaemon.start({ CONTAINERD_ADDRESS: c.socket });
  });
  after(async () => {
    await removeJobLogs(d).catch(() => {});
    await d?.stop();
    await c?.stop();
  });

  const run = async (ns: string, id: string, args = COUNTER) => {
    await d.ok(['run', 'containerd', '--image', IMAGE, '--id', id, '--namespace', ns, '--jid', `j-${id}`, '--', ...args]);
    return (await d.json<{ jid: string; log: string }[]>(['ps'])).find((j) => j.jid === `j-${id}`)?.log as string;
  };

  it('says containerd is unreachable when no socket is there, or nobody answers on it', async () => {
    const missing = join(d.dir, 'no-such.sock');
    for (const args of [
      ['run', 'containerd', '--image', IMAGE, '--id', 'x', '--containerd-address', missing],
      ['dump', 'containerd', '--id', 'x', '--containerd-address', missing],
      ['query', 'containerd', '--containerd-address', missing],
    ]) {
      failsWith(await d.cli(args), 'CEDANA_ERR_CONTAINERD_UNREACHABLE', /no socket at .*no-such\.sock/);
    }
    // A socket file that nobody listens on any more (containerd died).
    const stale = join(d.dir, 'stale.sock');
    execFileSync('perl', [
      '-MIO::Socket::UNIX',
      '-e',
      'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 1) or die $!',
      stale,
    ]);
    const r = await d.cli(['query', 'containerd', '--containerd-address', stale]);
    failsWith(r, 'CEDANA_ERR_CONTAINERD_UNREACHABLE', /cannot reach containerd at .*stale\.sock/);
    assert.equal((await d.json<unknown[]>(['ps'])).length, 0, 'no job was recorded');

    // `daemon check` of a daemon whose containerd is not there: a warning with its fix (the other runtimes still work).
    const alone = await TestDaemon.start({ CONTAINERD_ADDRESS: missing });
    try {
      const check = JSON.parse((await alone.cli(['daemon', 'check', '--json'])).stdout) as {
        components: { name: string; errors: unknown[]; warnings: { message: string; fix: string }[] }[];
      };
      const ctd = check.components.find((x) => x.name === 'containerd');
      assert.deepEqual(ctd?.errors, []);
      assert.match(ctd?.warnings[0]?.message ?? '', /containerd does not answer at .*no-such\.sock/);
      assert.match(ctd?.warnings[0]?.fix ?? '', /CONTAINERD_ADDRESS/);
    } finally {
      await alone.stop();
    }
  });

  it('names the namespace when it holds no such container, and refuses a task that is not running', async () => {
    const ns = await c.namespace();
    failsWith(
      await d.cli(['dump', 'containerd', '--id', 'nope', '--namespace', ns]),
      'CEDANA_ERR_CONTAINER_NOT_FOUND',
      new RegExp(`no container "nope" in namespace ${ns}`),
    );
    failsWith(
      await d.cli(['dump', 'containerd', '--id', 'nope', '--namespace', 'no-such-ns']),
      'CEDANA_ERR_CONTAINER_NOT_FOUND',
      /namespace no-such-ns/,
    );
    failsWith(await d.cli(['manage', 'containerd', '--id', 'nope', '--namespace', ns]), 'CEDANA_ERR_CONTAINER_NOT_FOUND');

    const created = containerId('created');
    c.ctr(ns, ['container', 'create', IMAGE, created, 'sh']);
    failsWith(await d.cli(['dump', 'containerd', '--id', created, '--namespace', ns]), 'CEDANA_ERR_CONTAINER_NOT_RUNNING', /has no task/);
    const done = containerId('done');
    c.ctr(ns, ['run', '-d', '--null-io', IMAGE, done, 'true']);
    await waitFor('task stopped', () => (c.task(ns, done)?.status === 'stopped' ? true : undefined));
    failsWith(await d.cli(['dump', 'containerd', '--id', done, '--namespace', ns]), 'CEDANA_ERR_CONTAINER_NOT_RUNNING', /stopped task/);
    failsWith(await d.cli(['manage', 'containerd', '--id', done, '--namespace', ns]), 'CEDANA_ERR_CONTAINER_NOT_RUNNING');
    assert.deepEqual(c.containers(ns).sort(), [created, done].sort(), 'nothing was removed');
  });

  it('refuses an unknown image and an ID that is taken, leaving nothing behind and the other container alone', async () => {
    const ns = await c.namespace();
    failsWith(
      await d.cli(['run', 'containerd', '--image', 'no.such/image:1', '--id', 'x1', '--namespace', ns]),
      'CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND',
      new RegExp(`no image "no.such/image:1" in namespace ${ns}`),
    );
    assert.deepEqual(c.containers(ns), []);
    const id = containerId();
    const log = await run(ns, id);
    failsWith(
      await d.cli(['run', 'containerd', '--image', IMAGE, '--id', id, '--namespace', ns, '--', 'true']),
      'CEDANA_ERR_CONTAINER_EXISTS',
      new RegExp(`"${id}" exists already`),
    );
    assert.equal(c.task(ns, id)?.status, 'running', 'the container with that ID goes on');
    await waitForCount(log, (await lastCount(log)) + 2);
    const usage = await d.cli(['run', 'containerd', '--id', 'y', '--namespace', ns]);
    assert.equal(usage.code, 2, 'a missing --image is a usage error');
    assert.match(usage.stderr, /image/);
  });

  it('leaves the task running and no checkpoint when the dump is refused', async () => {
    const ns = await c.namespace();
    const id = containerId();
    const log = await run(ns, id);
    await waitForCount(log, 3);
    const dir = join(d.dir, 'refused');
    const r = await d.cli(['dump', 'job', `j-${id}`, '--tcp-close', '--dir', dir]);
    failsWith(r, 'CEDANA_ERR_INVALID_ARGUMENT', /cannot pass --tcp-close/);
    assert.equal(c.task(ns, id)?.status, 'running');
    await waitForCount(log, (await lastCount(log)) + 2);
    assert.deepEqual(await readdir(dir).catch(() => []), [], 'no checkpoint folder was left');
    const j = (await d.json<{ jid: string; state: { status: string } }[]>(['ps'])).find((x) => x.jid === `j-${id}`);
    assert.equal(j?.state.status, 'running');
  });

  it('leaves the task running when CRIU fails to dump it, with CRIU’s reason', async () => {
    const ns = await c.namespace();
    const id = containerId('ghost');
    // A deleted file of 2 MiB held open: larger than CRIU's ghost-file limit (1 MiB).
    const script =
      'dd if=/dev/zero of=/big bs=1M count=2 2>/dev/null; exec 3</big; rm /big; i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done';
    const log = await run(ns, id, ['sh', '-c', script]);
    await waitForCount(log, 3);
    const dir = join(d.dir, 'ghost');
    const r = await d.cli(['dump', 'job', `j-${id}`, '--dir', dir]);
    failsWith(r, 'CEDANA_ERR_CONTAINERD_DUMP', /Can't dump ghost file \/big .*; the task was left running/);
    assert.equal(c.task(ns, id)?.status, 'running');
    await waitForCount(log, (await lastCount(log)) + 2);
    assert.deepEqual(await readdir(dir).catch(() => []), [], 'no checkpoint folder was left');
    assert.equal(
      (await d.json<{ jid: string; state: { status: string } }[]>(['ps'])).find((x) => x.jid === `j-${id}`)?.state.status,
      'running',
    );
  });

  it('keeps the checkpoint and leaves no container when a restore fails (ID taken, image gone, CRIU failing)', async () => {
    const ns = await c.namespace();
    const id = containerId();
    const log = await run(ns, id);
    await waitForCount(log, 3);
    await d.ok(['dump', 'job', `j-${id}`, '--leave-running', '--compression', 'none']);
    const path = (await d.json<{ jid: string; lastCheckpoint?: { path: string } }[]>(['ps'])).find((j) => j.jid === `j-${id}`)
      ?.lastCheckpoint?.path as string;
    const before = await readFile(join(path, 'checkpoint.json'), 'utf8');

    // The dumped container still runs under its ID.
    failsWith(
      await d.cli(['restore', 'containerd', '--path', path, '--namespace', ns]),
      'CEDANA_ERR_CONTAINER_EXISTS',
      /nothing was restored/,
    );

    // The image is gone from containerd.
    const other = await c.namespace('other');
    c.ctr(other, ['image', 'rm', '--sync', IMAGE]);
    failsWith(
      await d.cli(['restore', 'containerd', '--path', path, '--namespace', other, '--id', 'r1']),
      'CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND',
    );
    assert.deepEqual(c.containers(other), []);

    // CRIU fails: the process had a file of its writable layer open, and the checkpoint holds no layer.
    const holder = containerId('holder');
    const hlog = await run(ns, holder, ['sh', '-c', 'exec 3>/held; i=0; while :; do i=$((i+1)); echo $i; echo $i >&3; sleep 0.1; done']);
    await waitForCount(hlog, 3);
    await d.ok(['dump', 'job', `j-${holder}`, '--compression', 'none']);
    const held = (await d.json<{ jid: string; lastCheckpoint?: { path: string } }[]>(['ps'])).find((j) => j.jid === `j-${holder}`)
      ?.lastCheckpoint?.path as string;
    const heldBefore = await readdir(held);
    const r = await d.cli(['restore', 'job', `j-${holder}`]);
    failsWith(r, 'CEDANA_ERR_CONTAINERD_RESTORE', /Can't open file held on restore/);
    assert.match(r.stderr, /dump it again with --rootfs/, 'the hint says how to avoid it');
    assert.equal(c.containers(ns).includes(holder), false, 'the half-made container was removed');
    assert.deepEqual(await readdir(held), heldBefore, 'the checkpoint folder is as it was');

    // The first checkpoint is intact and restores under a free ID.
    assert.equal(await readFile(join(path, 'checkpoint.json'), 'utf8'), before);
    const copy = containerId('copy');
    await d.ok(['restore', 'containerd', '--path', path, '--namespace', ns, '--id', copy]);
    assert.equal(c.task(ns, copy)?.status, 'running');
  });
});
