/** Run, checkpoint and restore real runc containers through the CLI, the daemon, runc and CRIU. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attachUntil } from '../harness/attach.js';
import { counts, lastCount, waitForCount } from '../harness/counter.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';
import { rewriteAsFormat1 } from '../harness/format1.js';
import { containerId, makeBundle, removeAllContainers, removeJobLogs, runcIds, runcState, tarBundle, tarRootfs } from '../harness/runc.js';

interface JobJson {
  jid: string;
  type: string;
  log: string;
  state: { pid: number; status: string; exitCode?: number; exitSignal?: string };
  details?: { runc?: { id?: string; root?: string; bundle?: string; extracted?: string } };
  lastCheckpoint?: { path: string; compression: string };
}

describe('runc containers go on where they stopped', () => {
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
  /** A bundle in its own folder, with its own count file. */
  const bundle = async (name: string) => {
    const dir = join(d.dir, name);
    const data = await makeBundle(dir);
    return { dir, count: join(data, 'count') };
  };
  /** The counts after `atDump` go on from it (not from 1). */
  const wentOn = async (count: string, atDump: number) => {
    await waitForCount(count, atDump + 3);
    const all = await counts(count);
    assert.equal(all[all.lastIndexOf(atDump) + 1], atDump + 1, `the count after ${atDump} is ${atDump + 1}, not a restart`);
  };
  const stopped = async (count: string) => {
    const at = await lastCount(count);
    await sleep(300);
    assert.equal(await lastCount(count), at, 'the container must be gone after a dump without --leave-running');
    return at;
  };

  it('runs a container as a job, dumps it and restores it under the same ID (folder bundle, no compression, checkpoint.json of format 1)', async () => {
    const b = await bundle('same-id');
    const id = containerId();
    const jid = `runc-${id}`;
    const out = await d.ok(['run', 'runc', '--bundle', b.dir, '--id', id, '--root', root, '--jid', jid]);
    assert.match(out, new RegExp(`started job ${jid} \\(pid \\d+\\)`));
    const started = await job(jid);
    assert.equal(started.type, 'runc');
    assert.equal(started.state.pid, runcState(root, id)?.pid, 'the job’s PID is the container’s init');
    assert.deepEqual(started.details?.runc, { id, root, bundle: b.dir });
    await waitForCount(b.count, 5);

    await d.ok(['dump', 'job', jid, '--compression', 'none']);
    const dumped = await job(jid);
    assert.equal(dumped.state.status, 'checkpointed');
    assert.equal(runcState(root, id), undefined, 'runc removed the dumped container');
    const atDump = await stopped(b.count);
    assert.ok(existsSync(join(dumped.lastCheckpoint?.path ?? '', 'runc-config.json')), 'the checkpoint keeps the container’s config.json');
    const records = await d.json<{ jid: string; type: string; path: string }[]>(['checkpoints', jid]);
    assert.deepEqual(
      records.map((c) => [c.jid, c.type, c.path]),
      [[jid, 'runc', dumped.lastCheckpoint?.path]],
      'the checkpoint is in `cedana checkpoints`',
    );
    const manifest = JSON.parse(await readFile(join(dumped.lastCheckpoint?.path ?? '', 'checkpoint.json'), 'utf8'));
    assert.equal(manifest.format, 2);
    assert.equal(manifest.sections.runc.id, id, "checkpoint.json holds runc's section");
    assert.equal(manifest.io, undefined, "the container's stdio are the shim's: the daemon recorded none");
    // As cedana wrote it before format 2: a checkpoint made then restores.
    const old = await rewriteAsFormat1(dumped.lastCheckpoint?.path ?? '');
    assert.equal((old.runc as { id: string }).id, id);

    await d.ok(['restore', 'job', jid]);
    const restored = await job(jid);
    assert.equal(restored.state.status, 'running');
    const state = runcState(root, id);
    assert.equal(state?.status, 'running', 'runc knows the restored container');
    assert.equal(restored.state.pid, state?.pid);
    await wentOn(b.count, atDump);

    await d.ok(['job', 'kill', jid]);
    const exited = await waitFor('job exited', async () => {
      const j = await job(jid);
      return j.state.status === 'exited' ? j : undefined;
    });
    assert.equal(exited.state.exitSignal, 'SIGKILL', 'the shim reaped the container and knows how it ended');
    await waitFor('container removed', () => (runcState(root, id) === undefined ? true : undefined));
  });

  it('restores a job under a new ID with `restore job --id`, from lz4, and dumps it again by that ID', async () => {
    const b = await bundle('new-id');
    const id = containerId();
    const renamed = containerId('renamed');
    const jid = `runc-${id}`;
    await d.ok(['run', 'runc', '-b', b.dir, '-i', id, '--root', root, '--jid', jid]);
    await waitForCount(b.count, 3);
    await d.ok(['dump', 'job', jid, '--compression', 'lz4']);
    assert.match((await job(jid)).lastCheckpoint?.path ?? '', /\.tar\.lz4$/);
    const atDump = await stopped(b.count);

    await d.ok(['restore', 'job', jid, '--id', renamed]);
    assert.equal(runcState(root, renamed)?.status, 'running');
    assert.equal(runcState(root, id), undefined);
    const restored = await job(jid);
    assert.equal(restored.details?.runc?.id, renamed, 'the job follows its container to the new ID');
    assert.equal(restored.state.pid, runcState(root, renamed)?.pid);
    await wentOn(b.count, atDump);

    await d.ok(['dump', 'job', jid, '--compression', 'gzip']);
    assert.equal(runcState(root, renamed), undefined, 'the dump found the container by its new ID');
    const again = await stopped(b.count);
    await d.ok(['restore', 'job', jid]);
    assert.equal(runcState(root, renamed)?.status, 'running');
    await wentOn(b.count, again);
    await d.ok(['job', 'kill', jid]);
  });

  it('restores from a rootfs tar (`docker export` style) under a new ID, with the config.json the checkpoint kept (gzip)', async () => {
    const b = await bundle('rootfs-tar');
    const id = containerId();
    const copy = containerId('copy');
    await d.ok(['run', 'runc', '--bundle', b.dir, '--id', id, '--root', root]);
    await waitForCount(b.count, 3);
    const tars = join(d.dir, 'tars');
    await mkdir(tars, { recursive: true });
    const tar = tarRootfs(b.dir, join(tars, 'container_bundle.tar'));

    const out = await d.ok(['dump', 'runc', '--id', id, '--root', root, '--compression', 'gzip', '--dir', join(d.dir, 'ckpt-gzip')]);
    const path = /to (\S+\.tar\.gz) /.exec(out)?.[1];
    assert.ok(path, out);
    const atDump = await stopped(b.count);

    const restored = await d.ok(['restore', 'runc', '--path', path, '--bundle', tar, '--id', copy, '--root', root]);
    const jid = /restored job (\S+)/.exec(restored)?.[1] ?? '';
    const state = runcState(root, copy);
    assert.equal(state?.status, 'running');
    assert.match(state?.bundle ?? '', /cedana-runc-bundle-/, 'the tar was unpacked into a bundle of its own');
    const j = await job(jid);
    assert.equal(j.type, 'runc');
    assert.equal(j.details?.runc?.bundle, tar);
    assert.equal(j.details?.runc?.extracted, state?.bundle);
    const config = JSON.parse(await readFile(join(state?.bundle ?? '', 'config.json'), 'utf8'));
    assert.equal(config.root.path, 'rootfs');
    await wentOn(b.count, atDump);

    await d.ok(['job', 'kill', jid]);
    await waitFor('unpacked bundle removed', () => (existsSync(state?.bundle ?? '') ? undefined : true));
  });

  it('restores from a tar of a whole bundle, and a checkpoint in a plain tar archive', async () => {
    const b = await bundle('bundle-tar');
    const id = containerId();
    const copy = containerId('copy');
    await d.ok(['run', 'runc', '--bundle', b.dir, '--id', id, '--root', root, '--jid', `runc-${id}`]);
    await waitForCount(b.count, 3);
    const tar = tarBundle(b.dir, join(d.dir, 'bundle-tar.tar'));
    await d.ok(['dump', 'job', `runc-${id}`, '--compression', 'tar']);
    const atDump = await stopped(b.count);
    const path = (await job(`runc-${id}`)).lastCheckpoint?.path ?? '';
    assert.match(path, /\.tar$/);

    const restored = await d.ok(['restore', 'runc', '--path', path, '--bundle', tar, '--id', copy, '--root', root]);
    assert.equal(runcState(root, copy)?.status, 'running');
    await wentOn(b.count, atDump);
    await d.ok(['job', 'kill', /restored job (\S+)/.exec(restored)?.[1] ?? '']);
  });

  it('keeps the container running with --leave-running, and lists it in `query runc`', async () => {
    const b = await bundle('leave-running');
    const id = containerId();
    const jid = `runc-${id}`;
    await d.ok(['run', 'runc', '--bundle', b.dir, '--id', id, '--root', root, '--jid', jid]);
    await waitForCount(b.count, 3);
    await d.ok(['dump', 'job', jid, '--leave-running']);
    assert.equal((await job(jid)).state.status, 'running');
    assert.equal(runcState(root, id)?.status, 'running');
    await waitForCount(b.count, (await lastCount(b.count)) + 3);

    const table = await d.ok(['query', 'runc', '--root', root]);
    assert.match(table.split('\n')[0] ?? '', /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED$/);
    assert.match(table, new RegExp(`^${id}\\s+${runcState(root, id)?.pid}\\s+running\\s+${b.dir}\\s`, 'm'));
    const json = await d.json<{ containers: { id: string; pid: number; status: string; bundle: string }[] }>([
      'query',
      'runc',
      '--root',
      root,
    ]);
    const mine = json.containers.find((c) => c.id === id);
    assert.deepEqual(
      { ...mine, created: undefined },
      { id, pid: runcState(root, id)?.pid, status: 'running', bundle: b.dir, created: undefined },
    );
    assert.ok(runcIds(root).includes(id));
    await d.ok(['job', 'kill', jid]);
  });

  it('streams an attachable container’s output to `cedana attach`, also after a restore under a new ID', async () => {
    const dir = join(d.dir, 'attachable');
    await makeBundle(dir, { args: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done'] });
    const id = containerId('att');
    const jid = `runc-${id}`;
    await d.ok(['run', 'runc', '--bundle', dir, '--id', id, '--root', root, '--jid', jid, '--attachable']);
    const first = await attachUntil(d, jid, /tick 3\n/);
    assert.equal(first.code, 0, 'detaching exits 0');

    await d.ok(['dump', 'job', jid]);
    const moved = containerId('att-moved');
    await d.ok(['restore', 'job', jid, '--id', moved]);
    assert.equal(runcState(root, moved)?.status, 'running');
    const ticks = (out: string) => [...out.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
    const lastBefore = Math.max(...ticks(first.out));
    const second = await attachUntil(d, jid, new RegExp(`tick ${lastBefore + 15}\n`));
    const all = ticks(second.out); // the job's scrollback: from before the dump and after the restore
    assert.deepEqual(
      all.filter((t, i) => i > 0 && t !== (all[i - 1] as number) + 1),
      [],
      'one unbroken count: the restored container went on, it did not start again',
    );
    await d.ok(['job', 'kill', jid]);
  });

  it('says in `daemon check` which runc there is and whether containers can be checkpointed', async () => {
    const r = await d.cli(['daemon', 'check', '--json']);
    const { components } = JSON.parse(r.stdout) as {
      components: { name: string; source: string; data: Record<string, string>; errors: unknown[] }[];
    };
    const runc = components.find((c) => c.name === 'runc');
    assert.ok(runc, r.stdout);
    assert.equal(runc.source, 'runc');
    assert.match(runc.data.version ?? '', /^1\./);
    assert.match(runc.data.criu ?? '', /criu 4\.\d/);
    assert.deepEqual(runc.errors, []);
  });
});
