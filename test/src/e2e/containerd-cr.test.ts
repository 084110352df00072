/**
 * Run, checkpoint and restore real containerd containers through the CLI, the daemon,
 * containerd's gRPC API, its runc shim and CRIU. containerd is started by the test (its own
 * root, state and socket under a temp dir); every test uses a namespace of its own.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { attachUntil } from '../harness/attach.js';
import { IMAGE, TestContainerd } from '../harness/containerd.js';
import { counts, lastCount, waitForCount } from '../harness/counter.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';
import { containerId, removeJobLogs } from '../harness/runc.js';
import { TestS3 } from '../harness/s3.js';

interface JobJson {
  jid: string;
  type: string;
  log: string;
  attachable?: boolean;
  state: { pid: number; status: string; exitCode?: number; exitSignal?: string };
  details?: { containerd?: { id?: string; namespace?: string; image?: string; address?: string } };
  lastCheckpoint?: { path: string; compression: string };
}

/** Counts on stdout (the job's log) from the shell's memory: a restart would start again at 1. */
const COUNTER = ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done'];

describe('containerd containers go on where they stopped', () => {
  let c: TestContainerd;
  let d: TestDaemon;
  let s3: TestS3;
  before(async () => {
    c = await TestContainerd.start();
    s3 = await TestS3.start(['ctd-ckpts']);
    d = await TestDaemon.start({ CONTAINERD_ADDRESS: c.socket, ...s3.env });
  });
  after(async () => {
    await removeJobLogs(d).catch(() => {});
    await d?.stop();
    await c?.stop();
    await s3?.remove();
  });

  const job = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid) as JobJson;
  /** The counts after `atDump` go on from it (not from 1). */
  const wentOn = async (log: string, atDump: number) => {
    await waitForCount(log, atDump + 3);
    const all = await counts(log);
    assert.equal(all[all.lastIndexOf(atDump) + 1], atDump + 1, `the count after ${atDump} is ${atDump + 1}, not a restart`);
  };
  const stopped = async (log: string) => {
    const at = await lastCount(log);
    await sleep(300);
    assert.equal(await lastCount(log), at, 'the task must be gone after a dump without --leave-running');
    return at;
  };

  it('runs a container from an image, dumps and restores it twice (C/R/C/R, containerd issue 8401 avoided), and its count goes on', async () => {
    const ns = await c.namespace();
    const id = containerId();
    const jid = `ctd-${id}`;
    const out = await d.ok(['run', 'containerd', '--image', IMAGE, '--id', id, '--namespace', ns, '--jid', jid, '--', ...COUNTER]);
    assert.match(out, new RegExp(`started job ${jid} \\(pid \\d+\\)`));
    const started = await job(jid);
    assert.equal(started.type, 'containerd');
    assert.equal(started.state.pid, c.task(ns, id)?.pid, 'the job’s PID is the task’s');
    assert.deepEqual(started.details?.containerd, { address: c.socket, namespace: ns, id, image: IMAGE, snapshotter: 'overlayfs' });
    await waitForCount(started.log, 5);

    await d.ok(['dump', 'job', jid, '--compression', 'none']);
    assert.equal((await job(jid)).state.status, 'checkpointed');
    assert.deepEqual(c.containers(ns), [], 'the dumped container was removed, like runc checkpoint does');
    const manifest = JSON.parse(await readFile(`${(await job(jid)).lastCheckpoint?.path}/checkpoint.json`, 'utf8')) as {
      sections: { containerd: Record<string, unknown> };
      files: Record<string, unknown>;
      io?: unknown;
    };
    assert.equal(manifest.io, undefined, "the task's stdio are the shim's: the daemon recorded none");
    assert.deepEqual(
      { ...manifest.sections.containerd, version: undefined },
      { id, address: c.socket, namespace: ns, image: IMAGE, snapshotter: 'overlayfs', rootfs: false, version: undefined },
    );
    assert.match(String(manifest.sections.containerd.version), /^1\.6\./, 'checkpoint.json names containerd’s version');
    assert.ok(manifest.files['containerd-spec.json'] && manifest.files['pages-1.img'], 'the spec and CRIU’s images are in the checkpoint');
    const first = await stopped(started.log);

    await d.ok(['restore', 'job', jid]);
    const restored = await job(jid);
    assert.equal(restored.state.status, 'running');
    assert.equal(c.task(ns, id)?.status, 'running', 'containerd knows the restored task');
    assert.equal(restored.state.pid, c.task(ns, id)?.pid);
    await wentOn(started.log, first);

    // The second checkpoint of the same container ID: containerd 1.6's content-store bug does not bite.
    await d.ok(['dump', 'job', jid, '--compression', 'lz4']);
    assert.match((await job(jid)).lastCheckpoint?.path ?? '', /\.tar\.lz4$/);
    const second = await stopped(started.log);
    await d.ok(['restore', 'job', jid]);
    await wentOn(started.log, second);

    await d.ok(['job', 'kill', jid]);
    const exited = await waitFor('job exited', async () => {
      const j = await job(jid);
      return j.state.status === 'exited' ? j : undefined;
    });
    assert.equal(exited.state.exitSignal, 'SIGKILL', 'Tasks.Wait told how the task ended');
    await waitFor('container removed', () => (c.containers(ns).length === 0 ? true : undefined));
  });

  it('dumps a container to s3:// and restores it from there, as the job and as a new container', async () => {
    const ns = await c.namespace();
    const id = containerId();
    const jid = `ctd-${id}`;
    await d.ok(['run', 'containerd', '--image', IMAGE, '--id', id, '--namespace', ns, '--jid', jid, '--', ...COUNTER]);
    const log = (await job(jid)).log;
    await waitForCount(log, 3);
    await d.ok(['dump', 'job', jid, '--leave-running', '--dir', 's3://ctd-ckpts/c', '--compression', 'zstd']);
    const path = (await job(jid)).lastCheckpoint?.path ?? '';
    assert.match(path, /^s3:\/\/ctd-ckpts\/c\/dump-containerd-/, 'the checkpoint is in the bucket');
    await d.ok(['dump', 'job', jid, '--dir', 's3://ctd-ckpts/c', '--compression', 'lz4']);
    const atDump = await stopped(log);
    await d.ok(['restore', 'job', jid]);
    assert.equal(c.task(ns, id)?.status, 'running');
    await wentOn(log, atDump);
    await d.ok(['job', 'kill', jid]);
    await waitFor('container removed', () => (c.containers(ns).length === 0 ? true : undefined));

    // The first (--leave-running) checkpoint, restored from the bucket as a new container.
    const copy = containerId('s3copy');
    const restored = await d.ok(['restore', 'containerd', '--path', path, '--id', copy, '--namespace', ns]);
    assert.equal(c.task(ns, copy)?.status, 'running');
    await d.ok(['job', 'kill', /restored job (\S+)/.exec(restored)?.[1] ?? '']);
    await waitFor('container removed', () => (c.containers(ns).length === 0 ? true : undefined));
  });

  it('checkpoints the same running container again and again with --leave-running (containerd issue 8401 avoided)', async () => {
    const ns = await c.namespace();
    const id = containerId();
    const jid = `ctd-${id}`;
    await d.ok(['run', 'containerd', '--image', IMAGE, '--id', id, '--namespace', ns, '--jid', jid, '--', ...COUNTER]);
    const log = (await job(jid)).log;
    await waitForCount(log, 3);
    const paths: string[] = [];
    for (let i = 0; i < 3; i++) {
      await d.ok(['dump', 'job', jid, '--leave-running', '--compression', 'none']);
      paths.push((await job(jid)).lastCheckpoint?.path ?? '');
      assert.equal(c.task(ns, id)?.status, 'running');
    }
    assert.equal(new Set(paths).size, 3, 'three checkpoints');
    await waitForCount(log, (await lastCount(log)) + 2);
    await d.ok(['job', 'kill', jid]);
    await waitFor('container removed', () => (c.containers(ns).length === 0 ? true : undefined));

    // The first of them, restored as a new container: it counts on from where that checkpoint was.
    const copy = containerId('copy');
    const restored = await d.ok(['restore', 'containerd', '--path', paths[0] as string, '--id', copy, '--namespace', ns]);
    const rjid = /restored job (\S+)/.exec(restored)?.[1] ?? '';
    assert.equal(c.task(ns, copy)?.status, 'running');
    await d.ok(['job', 'kill', rjid]);

    // The second, into another namespace (which has the image too), keeping the container ID.
    const other = await c.namespace('other');
    const moved = await d.ok(['restore', 'containerd', '--path', paths[1] as string, '--namespace', other]);
    assert.equal(c.task(other, id)?.status, 'running');
    await waitFor('nothing left in the first namespace', () => (c.containers(ns).length === 0 ? true : undefined));
    await d.ok(['job', 'kill', /restored job (\S+)/.exec(moved)?.[1] ?? '']);
  });

  it('keeps the writable layer with --rootfs, restores under a new ID, and checkpoints the restored container again', async () => {
    const ns = await c.namespace();
    const id = containerId();
    const script = 'echo written-before > /hello; i=0; while :; do i=$((i+1)); echo $i; echo $i >> /count; sleep 0.1; done';
    await d.ok(['run', 'containerd', '--image', IMAGE, '--id', id, '--namespace', ns, '--jid', `ctd-${id}`, '--', 'sh', '-c', script]);
    const log = (await job(`ctd-${id}`)).log;
    await waitForCount(log, 4);
    // With --leave-running, the task (paused for the layer's diff) goes on.
    await d.ok(['dump', 'containerd', '--id', id, '--namespace', ns, '--rootfs', '--leave-running', '--dir', `${d.dir}/rootfs-lr`]);
    assert.equal(c.task(ns, id)?.status, 'running');
    await waitForCount(log, (await lastCount(log)) + 2);
    const dir = `${d.dir}/rootfs-ckpt`;
    const out = await d.ok(['dump', 'containerd', '--id', id, '--namespace', ns, '--rootfs', '--dir', dir, '--compression', 'gzip']);
    const path = /to (\S+\.tar\.gz) /.exec(out)?.[1];
    assert.ok(path, out);
    const atDump = await stopped(log);

    const moved = containerId('moved');
    const restored = await d.ok(['restore', 'containerd', '--id', moved, '--path', path, '--namespace', ns]);
    const jid = /restored job (\S+)/.exec(restored)?.[1] ?? '';
    const task = c.task(ns, moved);
    assert.equal(task?.status, 'running');
    assert.equal(await readFile(`/proc/${task?.pid}/root/hello`, 'utf8'), 'written-before\n', 'the file written before the dump is back');
    const j = await job(jid);
    assert.equal(j.details?.containerd?.id, moved, 'the job follows its container to the new ID');
    await wentOn(j.log, atDump);
    const inFile = (await readFile(`/proc/${task?.pid}/root/count`, 'utf8')).split('\n').filter(Boolean).map(Number);
    assert.deepEqual(inFile.slice(0, 3), [1, 2, 3], 'the count file holds the counts from before the dump');

    // The restored container, checkpointed again (the job remembers --rootfs) and restored again.
    await d.ok(['dump', 'job', jid, '--compression', 'none']);
    const again = await stopped(j.log);
    await d.ok(['restore', 'job', jid]);
    assert.equal(await readFile(`/proc/${c.task(ns, moved)?.pid}/root/hello`, 'utf8'), 'written-before\n');
    await wentOn(j.log, again);
    await d.ok(['job', 'kill', jid]);
  });

  it('unpacks the image for another snapshotter (native), and `dump job` keeps the layer of a job run with --rootfs', async () => {
    const ns = await c.namespace();
    const id = containerId();
    const jid = `ctd-${id}`;
    const script = 'echo native > /marker; i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done';
    await d.ok([
      'run',
      'containerd',
      '--image',
      IMAGE,
      '--id',
      id,
      '--namespace',
      ns,
      '--jid',
      jid,
      '--snapshotter',
      'native',
      '--rootfs',
      '--',
      'sh',
      '-c',
      script,
    ]);
    const j = await job(jid);
    assert.deepEqual(j.details?.containerd, { address: c.socket, namespace: ns, id, image: IMAGE, snapshotter: 'native', rootfs: true });
    await waitForCount(j.log, 3);
    await d.ok(['dump', 'job', jid]);
    const atDump = await stopped(j.log);
    await d.ok(['restore', 'job', jid]);
    assert.equal(await readFile(`/proc/${c.task(ns, id)?.pid}/root/marker`, 'utf8'), 'native\n', 'the writable layer came along');
    await wentOn(j.log, atDump);
    await d.ok(['job', 'kill', jid]);
  });

  it('manages a container containerd already runs, dumps and restores it', async () => {
    const ns = await c.namespace();
    const id = containerId('ctr');
    c.ctr(ns, ['run', '-d', '--null-io', IMAGE, id, 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i >> /count; sleep 0.1; done']);
    const pid = c.task(ns, id)?.pid as number;
    const count = `/proc/${pid}/root/count`;
    await waitForCount(count, 3);
    await d.ok(['manage', 'containerd', '--id', id, '--namespace', ns, '--jid', `m-${id}`]);
    const managed = await job(`m-${id}`);
    assert.equal(managed.state.pid, pid);

    await d.ok(['dump', 'job', `m-${id}`]);
    assert.equal(c.task(ns, id), undefined);
    await d.ok(['restore', 'job', `m-${id}`]);
    const back = c.task(ns, id);
    assert.equal(back?.status, 'running');
    await waitForCount(`/proc/${back?.pid}/root/count`, 3);
    await d.ok(['job', 'kill', `m-${id}`]);
  });

  it('dumps and restores a container job after the daemon restarted (the container never depended on it)', async () => {
    const ns = await c.namespace();
    const id = containerId();
    const jid = `ctd-${id}`;
    await d.ok(['run', 'containerd', '--image', IMAGE, '--id', id, '--namespace', ns, '--jid', jid, '--', ...COUNTER]);
    const log = (await job(jid)).log;
    await waitForCount(log, 3);
    await d.restart();
    assert.equal((await job(jid)).state.status, 'running', 'the job was found again');
    await d.ok(['dump', 'job', jid]);
    const atDump = await stopped(log);
    await d.ok(['restore', 'job', jid]);
    await wentOn(log, atDump);
    await d.ok(['job', 'kill', jid]);
    await waitFor('container removed', () => (c.containers(ns).length === 0 ? true : undefined));
  });

  it('streams an attachable container’s output to `cedana attach`, and takes input, also after a restore under a new ID', async () => {
    const ns = await c.namespace();
    const id = containerId('att');
    const jid = `ctd-${id}`;
    const script = 'i=0; while :; do i=$((i+1)); echo "tick $i"; if read -t 0.1 line; then echo "got $line"; fi; done';
    await d.ok([
      'run',
      'containerd',
      '--image',
      IMAGE,
      '--id',
      id,
      '--namespace',
      ns,
      '--jid',
      jid,
      '--attachable',
      '--',
      'sh',
      '-c',
      script,
    ]);
    assert.equal((await job(jid)).attachable, true);
    const first = await attachUntil(d, jid, /got hello\n/, 'hello\n');
    assert.equal(first.code, 0, 'detaching exits 0');

    await d.ok(['dump', 'job', jid]);
    const moved = containerId('att-moved');
    await d.ok(['restore', 'job', jid, '--id', moved]);
    assert.equal(c.task(ns, moved)?.status, 'running');
    assert.equal((await job(jid)).attachable, true, 'the restored job is attachable again');
    const ticks = (out: string) => [...out.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
    const lastBefore = Math.max(...ticks(first.out));
    const second = await attachUntil(d, jid, /got again\n/, 'again\n');
    await attachUntil(d, jid, new RegExp(`tick ${lastBefore + 10}\n`));
    const all = ticks(second.out);
    assert.deepEqual(
      all.filter((t, i) => i > 0 && t !== (all[i - 1] as number) + 1),
      [],
      'one unbroken count: the restored container went on, it did not start again',
    );
    await d.ok(['job', 'kill', jid]);
    await waitFor('container removed', () => (c.containers(ns).length === 0 ? true : undefined));
  });

  it('lists containers, tasks and images in `query containerd`, as tables and as JSON', async () => {
    const ns = await c.namespace();
    const id = containerId();
    await d.ok(['run', 'containerd', '--image', IMAGE, '--id', id, '--namespace', ns, '--jid', `q-${id}`, '--', ...COUNTER]);
    const pid = c.task(ns, id)?.pid;
    const table = await d.ok(['query', 'containerd', '--namespace', ns]);
    assert.match(table, /^ID\s+IMAGE\s+PID\s+STATUS\s+RUNTIME$/m);
    assert.match(
      table,
      new RegExp(`^${id}\\s+${IMAGE.replace(/[./]/g, '\\$&')}\\s+${pid}\\s+running\\s+io\\.containerd\\.runc\\.v2$`, 'm'),
    );
    assert.match(table, /^NAME\s+DIGEST$/m);
    const json = await d.json<{ containers: { id: string; pid: number; status: string }[]; images: { name: string }[] }>([
      'query',
      'containerd',
      '--namespace',
      ns,
    ]);
    assert.deepEqual(
      json.containers.map((x) => [x.id, x.pid, x.status]),
      [[id, pid, 'running']],
    );
    assert.deepEqual(
      json.images.map((i) => i.name),
      [IMAGE],
    );
    await d.ok(['job', 'kill', `q-${id}`]);
  });

  it('says in `daemon check` that containerd answers, its version, and runc and CRIU', async () => {
    const r = await d.cli(['daemon', 'check', '--json']);
    const { components } = JSON.parse(r.stdout) as {
      components: { name: string; source: string; data: Record<string, string>; errors: unknown[]; warnings: unknown[] }[];
    };
    const ctd = components.find((x) => x.name === 'containerd');
    assert.ok(ctd, r.stdout);
    assert.equal(ctd.source, 'containerd');
    assert.match(ctd.data.version ?? '', /^1\.6\./);
    assert.equal(ctd.data.address, c.socket);
    assert.match(ctd.data.runc ?? '', /runc 1\./);
    assert.match(ctd.data.shim ?? '', /containerd-shim-runc-v2$/);
    assert.match(ctd.data.criu ?? '', /criu 4\.\d/);
    assert.deepEqual(ctd.errors, []);
    assert.deepEqual(ctd.warnings, []);
  });
});
