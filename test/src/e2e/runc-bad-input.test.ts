/** Bad input to the runc plugin: a clear error that says what to do next, and nothing lost. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lastCount, waitForCount } from '../harness/counter.js';
import { type CliResult, TestDaemon } from '../harness/daemon.js';
import { containerId, makeBundle, removeAllContainers, removeJobLogs, runcIds, runcRunDetached, runcState } from '../harness/runc.js';

interface JobJson {
  jid: string;
  state: { pid: number; status: string };
  lastCheckpoint?: { path: string };
}

/** Every file of a folder (or one file) with its sha256: what "intact" means. */
async function fingerprint(path: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const files = existsSync(join(path, 'checkpoint.json'))
    ? (await readdir(path, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
    : [path];
  for (const f of files) {
    if (f.endsWith('restore.log')) continue; // runc's CRIU log of the restore attempt
    out[f] = createHash('sha256')
      .update(await readFile(f))
      .digest('hex');
  }
  return out;
}

function failsWith(r: CliResult, code: string, ...patterns: RegExp[]): void {
  assert.equal(r.code, 1, `exit code 1 expected:\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^Error \\[${code}\\]`), r.stderr);
  for (const p of patterns) assert.match(r.stderr, p);
  assert.match(r.stderr, /\nhint: \S/, 'says what to do next');
}

describe('runc bad input', () => {
  let d: TestDaemon;
  let root: string;
  let good: string;
  let goodCount: string;
  /** A checkpoint of a runc container (lz4), its container ID gone. */
  let checkpoint: string;
  before(async () => {
    d = await TestDaemon.start();
    root = join(d.dir, 'runc-root');
    good = join(d.dir, 'good');
    goodCount = join(await makeBundle(good), 'count');
    const id = containerId('ckpt');
    await d.ok(['run', 'runc', '--bundle', good, '--id', id, '--root', root, '--jid', 'ckpt']);
    await waitForCount(goodCount, 2);
    await d.ok(['dump', 'job', 'ckpt', '--compression', 'lz4']);
    checkpoint = (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === 'ckpt')?.lastCheckpoint?.path ?? '';
    assert.ok(existsSync(checkpoint));
  });
  after(async () => {
    removeAllContainers(root);
    await removeJobLogs(d);
    await d.stop();
  });

  /** Runs a counting container with cedana; returns its ID and count file. */
  const counting = async (name: string) => {
    const dir = join(d.dir, name);
    const count = join(await makeBundle(dir), 'count');
    const id = containerId(name);
    await d.ok(['run', 'runc', '--bundle', dir, '--id', id, '--root', root]);
    await waitForCount(count, 2);
    return { id, dir, count };
  };
  const stillCounting = async (count: string) => waitForCount(count, await lastCount(count), 5000);

  it('names an unknown container in dump and manage, and which root it looked under', async () => {
    for (const cmd of ['dump', 'manage']) {
      const r = await d.cli([cmd, 'runc', '--id', 'no-such-container', '--root', root]);
      failsWith(r, 'CEDANA_ERR_CONTAINER_NOT_FOUND', /"no-such-container"/, new RegExp(root), /cedana query runc/);
    }
  });

  it('refuses to dump a container that is not running', async () => {
    const dir = join(d.dir, 'stopped');
    await makeBundle(dir, { args: ['true'] });
    const id = containerId('stopped');
    runcRunDetached(root, dir, id);
    for (let i = 0; i < 50 && runcState(root, id)?.status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 100));
    const r = await d.cli(['dump', 'runc', '--id', id, '--root', root]);
    failsWith(r, 'CEDANA_ERR_CONTAINER_NOT_RUNNING', /is stopped, not running/);
  });

  it('refuses to run from a bundle that does not exist, has no config.json, or wants a terminal', async () => {
    failsWith(
      await d.cli(['run', 'runc', '--bundle', join(d.dir, 'nope'), '--id', containerId(), '--root', root]),
      'CEDANA_ERR_RUNC_BUNDLE_INVALID',
      /does not exist/,
    );
    const empty = join(d.dir, 'empty-bundle');
    await mkdir(empty, { recursive: true });
    failsWith(
      await d.cli(['run', 'runc', '--bundle', empty, '--id', containerId(), '--root', root]),
      'CEDANA_ERR_RUNC_BUNDLE_INVALID',
      /has no config\.json/,
    );
    const tty = join(d.dir, 'tty');
    await makeBundle(tty, { terminal: true });
    failsWith(
      await d.cli(['run', 'runc', '--bundle', tty, '--id', containerId(), '--root', root]),
      'CEDANA_ERR_CONTAINER_UNSUPPORTED',
      /terminal/,
    );
    assert.deepEqual(
      runcIds(root).filter((id) => !id.startsWith('stopped')),
      [],
      'no container was left behind',
    );
  });

  it('refuses to run a second container under a taken ID, leaving the first alone', async () => {
    const c = await counting('taken');
    const r = await d.cli(['run', 'runc', '--bundle', good, '--id', c.id, '--root', root]);
    failsWith(r, 'CEDANA_ERR_CONTAINER_EXISTS', new RegExp(`"${c.id}" exists already`));
    await stillCounting(c.count);
  });

  it('says runc’s own error when runc cannot start the bundle, and leaves nothing behind', async () => {
    const dir = join(d.dir, 'bad-cwd');
    await makeBundle(dir, { edit: (c) => ((c.process as { cwd: string }).cwd = 'relative/cwd') });
    const id = containerId('badcwd');
    const r = await d.cli(['run', 'runc', '--bundle', dir, '--id', id, '--root', root, '--jid', 'bad-cwd']);
    failsWith(r, 'CEDANA_ERR_RUNC_RUN', /runc run of container/, /cwd/);
    assert.equal(runcState(root, id), undefined);
    assert.equal((await d.cli(['job', 'inspect', 'bad-cwd'])).code, 1, 'no job was recorded');
  });

  it('refuses to dump a container with a read-only rootfs (CRIU could not restore it) and leaves it running', async () => {
    const dir = join(d.dir, 'readonly');
    const count = join(await makeBundle(dir, { readonly: true }), 'count');
    const id = containerId('ro');
    const run = await d.cli(['run', 'runc', '--bundle', dir, '--id', id, '--root', root]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /read-only rootfs.*cannot be checkpointed/, 'warned at run');
    await waitForCount(count, 2);
    const dumps = join(d.dir, 'ro-dumps');
    const r = await d.cli(['dump', 'runc', '--id', id, '--root', root, '--dir', dumps]);
    failsWith(r, 'CEDANA_ERR_CONTAINER_UNSUPPORTED', /read-only rootfs/, /readonly/);
    await stillCounting(count);
    assert.deepEqual(await readdir(dumps).catch(() => []), []);
  });

  it('leaves the container running when runc checkpoint fails, and no checkpoint behind', async () => {
    // Its stdout is a file of the host, outside the container's mounts: CRIU cannot dump that.
    const dir = join(d.dir, 'host-file');
    const count = join(await makeBundle(dir), 'count');
    const id = containerId('hostfile');
    runcRunDetached(root, dir, id, join(d.dir, 'host-file.out'));
    await waitForCount(count, 2);
    const dumps = join(d.dir, 'failed-dumps');
    const r = await d.cli(['dump', 'runc', '--id', id, '--root', root, '--dir', dumps]);
    failsWith(r, 'CEDANA_ERR_RUNC_DUMP', /the container was left running/, /Can't lookup mount/);
    await stillCounting(count);
    assert.equal(runcState(root, id)?.status, 'running');
    assert.deepEqual(await readdir(dumps), [], 'the partial checkpoint was removed');
  });

  it('refuses to restore under an ID that is taken, touching neither the checkpoint nor that container', async () => {
    const c = await counting('busy');
    const before = await fingerprint(checkpoint);
    const r = await d.cli(['restore', 'runc', '--path', checkpoint, '--bundle', good, '--id', c.id, '--root', root]);
    failsWith(r, 'CEDANA_ERR_CONTAINER_EXISTS', new RegExp(`"${c.id}" exists already`), /--id NEW_ID/);
    assert.deepEqual(await fingerprint(checkpoint), before);
    await stillCounting(c.count);
  });

  it('refuses a bundle that does not exist or does not match the checkpoint, leaving no container behind', async () => {
    const before = await fingerprint(checkpoint);
    const ids = () => runcIds(root).sort();
    const had = ids();

    const missing = await d.cli([
      'restore',
      'runc',
      '--path',
      checkpoint,
      '--bundle',
      join(d.dir, 'gone'),
      '--id',
      containerId(),
      '--root',
      root,
    ]);
    failsWith(missing, 'CEDANA_ERR_RUNC_BUNDLE_INVALID', /does not exist/);

    const other = join(d.dir, 'other-rootfs');
    await makeBundle(other);
    await writeFile(join(other, 'rootfs', 'bin', 'busybox'), 'not the busybox the container ran');
    const mismatch = await d.cli(['restore', 'runc', '--path', checkpoint, '--bundle', other, '--id', containerId(), '--root', root]);
    failsWith(mismatch, 'CEDANA_ERR_RUNC_BUNDLE_INVALID', /does not match the checkpoint: \/bin\/busybox has \d+ bytes/);

    const noMount = join(d.dir, 'no-mount');
    await makeBundle(noMount, {
      edit: (c) => (c.mounts = (c.mounts as { destination: string }[]).filter((m) => m.destination !== '/data')),
    });
    const mounts = await d.cli(['restore', 'runc', '--path', checkpoint, '--bundle', noMount, '--id', containerId(), '--root', root]);
    failsWith(mounts, 'CEDANA_ERR_RUNC_BUNDLE_INVALID', /no mount at \/data/);

    assert.deepEqual(ids(), had, 'no container was created');
    assert.deepEqual(await fingerprint(checkpoint), before, 'the checkpoint is intact');
    assert.deepEqual(
      (await readdir(join(checkpoint, '..'))).filter((f) => f.includes('.restore-')),
      [],
      'the unpacked images were removed',
    );
  });

  it('removes the half-made container when runc restore fails, and the checkpoint can be restored after all', async () => {
    const dir = join(d.dir, 'restore-bad-cwd');
    await makeBundle(dir, { data: join(good, 'data'), edit: (c) => ((c.process as { cwd: string }).cwd = 'relative/cwd') });
    const before = await fingerprint(checkpoint);
    const id = containerId('halfmade');
    const r = await d.cli(['restore', 'runc', '--path', checkpoint, '--bundle', dir, '--id', id, '--root', root]);
    failsWith(r, 'CEDANA_ERR_RUNC_RESTORE', /runc restore of container/, /checkpoint is intact/);
    assert.equal(runcState(root, id), undefined, 'no half-made container');
    assert.deepEqual(await fingerprint(checkpoint), before);

    const ok = await d.cli(['restore', 'runc', '--path', checkpoint, '--bundle', good, '--id', id, '--root', root]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(runcState(root, id)?.status, 'running');
    await stillCounting(goodCount);
  });

  it('refuses to restore a process checkpoint as a container, and a container checkpoint as a process', async () => {
    await d.ok(['run', 'process', '--jid', 'plain', '--', 'sleep', '30']);
    await d.ok(['dump', 'job', 'plain']);
    const path = (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === 'plain')?.lastCheckpoint?.path ?? '';
    const r = await d.cli(['restore', 'runc', '--path', path, '--bundle', good, '--id', containerId(), '--root', root]);
    failsWith(r, 'CEDANA_ERR_INVALID_ARGUMENT', /was made by `cedana dump process`/, /cedana restore process --path/);
    const before = await fingerprint(checkpoint);
    const back = await d.cli(['restore', 'process', '--path', checkpoint]);
    failsWith(
      back,
      'CEDANA_ERR_INVALID_ARGUMENT',
      /was made by `cedana dump runc`, it cannot be restored as a process/,
      /cedana restore runc --path/,
    );
    assert.deepEqual(await fingerprint(checkpoint), before);
  });

  it('says runc is missing, and `daemon check` says how to fix it', async () => {
    // A PATH with what the daemon needs but runc (Debian has it in /usr/bin and /usr/sbin).
    const bin = join(d.dir, 'bin-without-runc');
    await mkdir(bin, { recursive: true });
    for (const tool of ['/usr/bin/perl', '/usr/bin/tar', '/usr/sbin/iptables-restore']) await symlink(tool, join(bin, basename(tool)));
    const bare = await TestDaemon.start({ PATH: `${bin}:/usr/local/sbin` });
    try {
      const r = await bare.cli(['run', 'runc', '--bundle', good, '--id', containerId(), '--root', root]);
      failsWith(r, 'CEDANA_ERR_RUNC_NOT_FOUND', /runc is not on the daemon's PATH/, /apt-get install runc/);
      const check = await bare.cli(['daemon', 'check', '--json']);
      const runc = (
        JSON.parse(check.stdout) as { components: { name: string; errors: { message: string; fix: string }[] }[] }
      ).components.find((c) => c.name === 'runc');
      assert.ok(runc?.errors.some((e) => /runc is not on/.test(e.message) && /apt-get install runc/.test(e.fix)));
    } finally {
      await bare.stop();
      await rm(bare.dir, { recursive: true, force: true });
    }
  });
});
