/**
 * Checkpoints in S3-compatible storage (gh-15), against s3rver on loopback: dumps to
 * s3://bucket/prefix stream straight into the bucket (checkpoint.json last), restores read
 * it back verified, a second daemon restores what the first uploaded, and storage faults
 * leave nothing registered with the job alive.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { bigCounter, counterScript, digests, lastCount, waitForCount } from '../harness/counter.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';
import { containerId, makeBundle, removeAllContainers } from '../harness/runc.js';
import { TestS3 } from '../harness/s3.js';

const BUCKET = 'ckpts';

interface CheckpointJson {
  id: string;
  jid: string;
  path: string;
  compression: string;
}

describe('checkpoints in S3-compatible storage', () => {
  let s3: TestS3;
  let d: TestDaemon;
  const stagingOf = new Map<TestDaemon, string>();
  const staging = () => stagingOf.get(d) as string;
  /** A daemon for the server, staging under a folder of its own. */
  const start = async (env: NodeJS.ProcessEnv = {}) => {
    // On a tmpfs, as storage.staging_dir's default is.
    const dir = await mkdtemp('/dev/shm/cedana-staging-');
    const t = await TestDaemon.start({ ...s3.env, CEDANA_STORAGE_STAGING_DIR: dir, CEDANA_STORAGE_S3_PART_SIZE_MIB: '5', ...env });
    stagingOf.set(t, dir);
    return t;
  };
  const keys = async (prefix: string) =>
    ((await s3.client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key as string);
  const checkpoints = (jid: string) => d.json<CheckpointJson[]>(['checkpoints', jid]);
  const status = async (jid: string) =>
    (await d.json<{ jid: string; state: { status: string } }[]>(['ps'])).find((j) => j.jid === jid)?.state.status;
  const killAndWait = async (jid: string) => {
    await d.ok(['job', 'kill', jid]);
    await waitFor(`${jid} exited`, async () => ((await status(jid)) === 'exited' ? true : undefined));
  };

  before(async () => {
    s3 = await TestS3.start([BUCKET]);
    d = await start();
  });
  after(async () => {
    await d?.stop();
    await s3?.remove();
    await Promise.all([...stagingOf.values()].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  for (const compression of ['zstd', 'lz4', 'none']) {
    it(`dumps a job to s3:// (${compression}) with no archive on the local disk, lists, inspects and restores it`, async () => {
      const jid = `rt-${compression}`;
      const file = join(d.dir, `${jid}.count`);
      await d.ok(['run', 'process', '--jid', jid, '--', ...counterScript(file)]);
      await waitForCount(file, 2);
      const r = await d.cli(['dump', 'job', jid, '--dir', `s3://${BUCKET}/rt`, '--compression', compression]);
      assert.equal(r.code, 0, r.stderr);
      const [c] = await checkpoints(jid);
      assert.ok(c, 'the checkpoint is registered');
      assert.match(c.path, new RegExp(`^s3://${BUCKET}/rt/dump-process-${jid}-`));
      const prefix = c.path.slice(`s3://${BUCKET}/`.length);
      const stored = await keys(`${prefix}/`);
      assert.ok(stored.includes(`${prefix}/checkpoint.json`), `checkpoint.json stored: ${stored.join(' ')}`);
      if (compression === 'none')
        assert.ok(
          stored.some((k) => /\/pages-\d+\.img$/.test(k)),
          'one object per image',
        );
      else assert.deepEqual(stored.sort(), [`${prefix}/checkpoint.json`, `${prefix}/images.tar.${compression === 'zstd' ? 'zst' : 'lz4'}`]);
      assert.deepEqual(await readdir(staging()), [], 'nothing is left in the staging folder');

      const inspected = await d.json<{ manifest: { files: Record<string, unknown>; jid: string } }>(['checkpoint', 'inspect', c.id]);
      assert.equal(inspected.manifest.jid, jid);
      assert.ok(Object.keys(inspected.manifest.files).some((n) => n.startsWith('pages-')));

      const before = await lastCount(file);
      await d.ok(['restore', 'job', jid]);
      await waitForCount(file, before + 2);
      assert.deepEqual(await readdir(staging()), [], 'the fetched images are removed after the restore');
      await killAndWait(jid);

      const del = await d.cli(['checkpoint', 'delete', c.id]);
      assert.equal(del.code, 0, del.stderr);
      assert.deepEqual(await keys(`${prefix}/`), [], 'delete removes every object of the checkpoint');
    });
  }

  it('--streams 2 to s3:// uploads the shards, restores, and checkpoint.keep removes older remote checkpoints', async () => {
    const keeping = await start({ CEDANA_CHECKPOINT_KEEP: '1' });
    try {
      const jid = 'streamed';
      const file = join(keeping.dir, 'streamed.count');
      await keeping.ok(['run', 'process', '--jid', jid, '--', ...counterScript(file)]);
      await waitForCount(file, 2);
      await keeping.ok(['dump', 'job', jid, '--dir', `s3://${BUCKET}/keep`, '--streams', '2', '--leave-running', '--name', 'first']);
      assert.ok(
        (await keys('keep/first/')).some((k) => /\/img-1\.lz4$/.test(k)),
        'each shard is an object',
      );
      await keeping.ok(['dump', 'job', jid, '--dir', `s3://${BUCKET}/keep`, '--streams', '2', '--name', 'second']);
      assert.deepEqual(await keys('keep/first/'), [], 'checkpoint.keep=1 removed the older checkpoint from the bucket');
      const cps = await keeping.json<CheckpointJson[]>(['checkpoints', jid]);
      assert.deepEqual(
        cps.map((c) => c.path),
        [`s3://${BUCKET}/keep/second`],
      );
      const before = await lastCount(file);
      await keeping.ok(['restore', 'job', jid]);
      await waitForCount(file, before + 2);
      await keeping.ok(['job', 'kill', jid]);
    } finally {
      await keeping.stop();
    }
  });

  it('an lz4 archive goes to s3:// with no archive file on the local disk (staging watched during the dump); a second daemon, with its own DB and folders, restores it after the first is gone', async () => {
    const jid = 'moved';
    const countDir = await mkdtemp('/tmp/cedana-s3-count-');
    const file = join(countDir, 'moved.count');
    await d.ok(['run', 'process', '--jid', jid, '--', ...bigCounter(file, 32)]);
    await waitForCount(file, 2, 60_000);
    const watch = watchFolder(staging());
    const r = await d.cli(['dump', 'job', jid, '--dir', `s3://${BUCKET}/moved`, '--compression', 'lz4', '--name', 'm1']);
    const seen = await watch.stop();
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      seen.some((n) => /^m1\/pages-\d+\.img$/.test(n)),
      `CRIU's images were seen in the staging folder during the dump: ${seen.join(' ')}`,
    );
    assert.deepEqual(
      seen.filter((n) => n !== 'm1' && !n.startsWith('m1/')),
      [],
      'the staging folder held the images folder only: no archive file',
    );
    assert.deepEqual(await readdir(staging()), [], 'the staged images are removed once checkpoint.json is stored');
    assert.deepEqual((await keys('moved/m1/')).sort(), ['moved/m1/checkpoint.json', 'moved/m1/images.tar.lz4']);
    const [md5] = await digests(file);
    const before = await lastCount(file);
    const second = await start();
    try {
      // The first daemon's DB, checkpoint and staging folders go.
      await d.stop();
      d = second;
      await d.ok(['restore', 'process', '--path', `s3://${BUCKET}/moved/m1`, '--jid', 'moved2']);
      await waitForCount(file, before + 2);
      const pid = (await d.json<{ jid: string; state: { pid: number } }[]>(['ps'])).find((j) => j.jid === 'moved2')?.state.pid as number;
      process.kill(pid, 'SIGUSR1');
      assert.equal(
        await waitFor('the md5 after the restore', async () => (await digests(file))[1], 30_000),
        md5,
        'the restored memory is the dumped memory',
      );
      await d.ok(['job', 'kill', 'moved2']);
    } finally {
      d = second;
      await rm(countDir, { recursive: true, force: true });
    }
  });

  it('refuses a tampered or missing object, naming it, and leaves the bucket as it was', async () => {
    const jid = 'tamper';
    const file = join(d.dir, 'tamper.count');
    await d.ok(['run', 'process', '--jid', jid, '--', ...counterScript(file)]);
    await waitForCount(file, 2);
    await d.ok(['dump', 'job', jid, '--dir', `s3://${BUCKET}/t`, '--compression', 'none', '--name', 'folder', '--leave-running']);
    await d.ok(['dump', 'job', jid, '--dir', `s3://${BUCKET}/t`, '--compression', 'zstd', '--name', 'archive']);
    const client = s3.client();

    const pages = (await keys('t/folder/')).find((k) => /pages-\d+\.img$/.test(k)) as string;
    const body = Buffer.from(
      await ((await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: pages }))).Body?.transformToByteArray() as Promise<Uint8Array>),
    );
    body[body.length - 1] = (body[body.length - 1] as number) ^ 0xff;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: pages, Body: body }));
    let r = await d.cli(['restore', 'process', '--path', `s3://${BUCKET}/t/folder`, '--jid', 'tamper2']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CEDANA_ERR_CHECKPOINT_INVALID/);
    assert.ok(r.stderr.includes(`s3://${BUCKET}/${pages}`), r.stderr);

    const archive = 't/archive/images.tar.zst';
    const whole = Buffer.from(
      await ((
        await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: archive }))
      ).Body?.transformToByteArray() as Promise<Uint8Array>),
    );
    whole[Math.floor(whole.length * 0.6)] = (whole[Math.floor(whole.length * 0.6)] as number) ^ 0xff;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: archive, Body: whole }));
    r = await d.cli(['restore', 'job', jid]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CEDANA_ERR_CHECKPOINT_INVALID/);
    assert.ok(r.stderr.includes(`s3://${BUCKET}/${archive}`), r.stderr);

    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: archive }));
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 't/archive/checkpoint.json' }));
    r = await d.cli(['restore', 'job', jid]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CEDANA_ERR_CHECKPOINT_NOT_FOUND/);
    assert.ok(r.stderr.includes(`s3://${BUCKET}/t/archive`), r.stderr);
    assert.deepEqual(await readdir(staging()), [], 'no fetched images are left behind');
  });

  it('--streams 2 from s3:// is served while the shards download; a damaged or missing shard fails it naming the object, nothing runs', async () => {
    const jid = 'arrive';
    const file = join(d.dir, 'arrive.count');
    // 48 MiB, half random: shards of several parts each (5 MiB parts), read by CRIU as they arrive.
    await d.ok(['run', 'process', '--jid', jid, '--', ...bigCounter(file, 48)]);
    const original = await waitFor('the first md5', async () => (await digests(file))[0], 30_000);
    await waitForCount(file, 2, 30_000);
    await d.ok(['dump', 'job', jid, '--dir', `s3://${BUCKET}/arrive`, '--streams', '2', '--name', 'a1']);
    const client = s3.client();
    const get = async (key: string) =>
      Buffer.from(
        await ((await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToByteArray() as Promise<Uint8Array>),
      );
    const objects = async () =>
      ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'arrive/a1/' }))).Contents ?? [])
        .map((o) => `${o.Key} ${o.ETag} ${o.Size}`)
        .sort();
    const shard = 'arrive/a1/img-0.lz4';
    const good = await get(shard);
    assert.ok(good.length > 10 << 20, `the shard spans several parts (${good.length} bytes)`);
    const atDump = await lastCount(file);

    const bad = Buffer.from(good);
    const at = Math.floor(bad.length * 0.7);
    bad[at] = (bad[at] as number) ^ 0xff;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: shard, Body: bad }));
    const tampered = await objects();
    let r = await d.cli(['restore', 'job', jid]);
    assert.notEqual(r.code, 0, 'a damaged shard fails the restore');
    assert.match(r.stderr, /CEDANA_ERR_CHECKPOINT_INVALID/);
    assert.ok(r.stderr.includes(`s3://${BUCKET}/${shard}`), `names the object: ${r.stderr}`);
    assert.match(r.stderr, /at byte \d+ of img-0\.lz4/, 'names the offset');
    await sleep(1000);
    assert.equal(await lastCount(file), atDump, 'nothing restored ran');
    assert.deepEqual(await objects(), tampered, 'the bucket is unchanged');
    const left = (await readdir(staging())).filter((n) => !n.endsWith('.log')); // CRIU's log of the failed restore stays
    assert.deepEqual(left, [], 'no fetched images are left behind');

    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: shard, Body: good }));
    const other = 'arrive/a1/img-1.lz4';
    const kept = await get(other);
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: other }));
    r = await d.cli(['restore', 'job', jid]);
    assert.notEqual(r.code, 0, 'a missing shard fails the restore');
    assert.match(r.stderr, /CEDANA_ERR_CHECKPOINT_INVALID/);
    assert.ok(r.stderr.includes(`s3://${BUCKET}/${other}`), `names the object: ${r.stderr}`);
    assert.equal(await lastCount(file), atDump, 'nothing restored ran');

    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: other, Body: kept }));
    r = await d.cli(['restore', 'job', jid, '--progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^restoring job ${jid}: download \\d+% `, 'm'), 'progress of the download');
    await waitForCount(file, atDump + 2, 30_000);
    const pid = (await d.json<{ jid: string; state: { pid: number } }[]>(['ps'])).find((j) => j.jid === jid)?.state.pid as number;
    process.kill(pid, 'SIGUSR1');
    const restored = await waitFor('the md5 after the restore', async () => (await digests(file))[1], 30_000);
    assert.equal(restored, original, 'the restored memory is the dumped memory');
    const logs = (await readdir(staging())).filter((n) => n.endsWith('.log'));
    assert.deepEqual(await readdir(staging()), logs, 'the fetched shards are removed after the restore');
    assert.equal(logs.length, 1, "CRIU's log of the restore the damaged shard failed is kept");
    await Promise.all(logs.map((n) => rm(join(staging(), n))));
    await killAndWait(jid);
  });

  // runc refuses --streams (CEDANA_ERR_INVALID_ARGUMENT: its plugin runs CRIU itself): an archive and a folder.
  for (const flags of [
    ['--compression', 'zstd'],
    ['--compression', 'none'],
  ]) {
    it(`restore job J of a runc container from s3:// (${flags.join(' ')}): the count goes on`, async () => {
      const root = join(d.dir, 'runc-root');
      const dir = join(d.dir, `runc-${flags[1]}`);
      const count = join(await makeBundle(dir), 'count');
      const id = containerId();
      const jid = `runc-${id}`;
      try {
        await d.ok(['run', 'runc', '--bundle', dir, '--id', id, '--root', root, '--jid', jid]);
        await waitForCount(count, 3);
        await d.ok(['dump', 'job', jid, '--dir', `s3://${BUCKET}/runc`, ...flags]);
        const atDump = await lastCount(count);
        await d.ok(['restore', 'job', jid]);
        await waitForCount(count, atDump + 2, 30_000);
        await killAndWait(jid);
      } finally {
        removeAllContainers(root);
      }
    });
  }

  it('says what is wrong with the storage, with the fix, before CRIU runs: the job keeps running', async () => {
    const jid = 'faults';
    await d.ok(['run', 'process', '--jid', jid, '--', 'sleep', '1000']);
    let r = await d.cli(['dump', 'job', jid, '--dir', 's3://no-such-bucket/x']);
    assert.match(r.stderr, /CEDANA_ERR_STORAGE_BUCKET_MISSING/);
    assert.match(r.stderr, /aws s3 mb s3:\/\/no-such-bucket.*storage\.s3\.create_bucket/s);

    // s3rver checks the access key (not the secret): an unknown one is what it refuses.
    const wrongKeys = await start({ AWS_ACCESS_KEY_ID: 'nobody' });
    const unreachable = await start({ CEDANA_STORAGE_S3_ENDPOINT: 'http://127.0.0.1:9' });
    const creating = await start({ CEDANA_STORAGE_S3_CREATE_BUCKET: 'true' });
    try {
      for (const [daemon, code] of [
        [wrongKeys, 'CEDANA_ERR_STORAGE_CREDENTIALS'],
        [unreachable, 'CEDANA_ERR_STORAGE_UNREACHABLE'],
      ] as const) {
        await daemon.ok(['run', 'process', '--jid', jid, '--', 'sleep', '1000']);
        r = await daemon.cli(['dump', 'job', jid, '--dir', `s3://${BUCKET}/f`]);
        assert.match(r.stderr, new RegExp(code), r.stderr);
        assert.match(r.stderr, /hint: /);
        assert.equal((await daemon.json<unknown[]>(['checkpoints', jid])).length, 0, 'nothing is registered');
        assert.equal((await daemon.json<{ jid: string; state: { status: string } }[]>(['ps']))[0]?.state.status, 'running');
      }
      await creating.ok(['run', 'process', '--jid', jid, '--', 'sleep', '1000']);
      await creating.ok(['dump', 'job', jid, '--dir', 's3://made-by-dump/x', '--leave-running']);
      assert.equal((await creating.json<unknown[]>(['checkpoints', jid])).length, 1, 'storage.s3.create_bucket made the bucket');
    } finally {
      await Promise.all([wrongKeys.stop(), unreachable.stop(), creating.stop()]);
    }
    assert.equal(await status(jid), 'running');
    await d.ok(['job', 'kill', jid]);
  });

  it('a staging folder too small for the job refuses an archive dump before CRIU (the job runs on) and a restore before any download, saying what to set', async () => {
    const small = await mkdtemp('/tmp/cedana-small-staging-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', small]);
    const cramped = await TestDaemon.start({ ...s3.env, CEDANA_STORAGE_STAGING_DIR: small });
    try {
      const jid = 'cramped';
      const file = join(cramped.dir, 'cramped.count');
      await cramped.ok(['run', 'process', '--jid', jid, '--', ...bigCounter(file, 32)]);
      await waitForCount(file, 2, 60_000);
      const r = await cramped.cli(['dump', 'job', jid, '--dir', `s3://${BUCKET}/cramped`, '--compression', 'lz4']);
      assert.notEqual(r.code, 0, 'the dump is refused');
      assert.match(r.stderr, /CEDANA_ERR_NO_SPACE/, r.stderr);
      assert.match(r.stderr, new RegExp(`no room for the images in ${small}: it has \\d+ MiB free, the job's memory alone is \\d+ MiB`));
      assert.match(r.stderr, /hint: storage\.staging_dir .* --streams N/);
      assert.equal((await cramped.json<unknown[]>(['checkpoints', jid])).length, 0, 'nothing is registered');
      const at = await lastCount(file);
      await waitForCount(file, at + 1);
      assert.deepEqual(await readdir(small), [], 'nothing was staged');
      assert.deepEqual(await keys('cramped/'), [], 'nothing was uploaded');

      // --streams stages none of the images: it goes through, and its restore is refused there before any download.
      await cramped.ok(['dump', 'job', jid, '--dir', `s3://${BUCKET}/cramped`, '--streams', '2', '--leave-running']);
      const [c] = await cramped.json<CheckpointJson[]>(['checkpoints', jid]);
      const back = await cramped.cli(['restore', 'process', '--path', c?.path as string, '--jid', 'cramped2']);
      assert.notEqual(back.code, 0, 'the restore is refused');
      assert.match(
        back.stderr,
        new RegExp(
          `no room for the images in ${small}/restore-\\w+: it has \\d+ MiB free, the checkpoint's images are \\d+ MiB; nothing was downloaded or started`,
        ),
      );
      assert.match(back.stderr, /hint: storage\.staging_dir /);
      assert.deepEqual(await readdir(small), [], 'nothing was downloaded');
      assert.equal(
        (await cramped.json<{ jid: string }[]>(['ps'])).some((j) => j.jid === 'cramped2'),
        false,
        'nothing was started',
      );
      await cramped.ok(['job', 'kill', jid]);
    } finally {
      await cramped.stop();
      execFileSync('umount', ['-l', small]);
      await rm(small, { recursive: true, force: true });
    }
  });

  for (const leaveRunning of [true, false]) {
    it(`server stopped mid-upload${leaveRunning ? ' (--leave-running)' : ''}: ${leaveRunning ? 'nothing is registered and the job runs on' : 'the images are kept locally, registered, and restore'}`, async () => {
      const jid = `cut-${leaveRunning}`;
      const file = join(d.dir, `${jid}.count`);
      await d.ok(['run', 'process', '--jid', jid, '--', ...bigCounter(file, 128)]);
      await waitForCount(file, 2, 60_000);
      const args = ['dump', 'job', jid, '--dir', `s3://${BUCKET}/cut-${leaveRunning}`, '--compression', 'lz4'];
      // Once parts arrive at the server (part 2 comes first: part 1 holds the head and goes last), it goes away.
      const parts = async () => (await readdir(s3.dir, { recursive: true })).map(String).filter((n) => /uploads\/[^/]+\/2$/.test(n));
      const old = new Set(await parts());
      const dump = d.cli(leaveRunning ? [...args, '--leave-running'] : args);
      await waitFor('a multipart upload under way', async () => ((await parts()).some((n) => !old.has(n)) ? true : undefined), 60_000);
      await s3.stop();
      const r = await dump;
      await s3.run();
      if (leaveRunning) {
        assert.notEqual(r.code, 0, 'the dump fails');
        assert.match(r.stderr, /CEDANA_ERR_STORAGE_(INTERRUPTED|UNREACHABLE)/, r.stderr);
        assert.equal((await checkpoints(jid)).length, 0, 'nothing is registered');
        assert.equal(await status(jid), 'running');
        const at = await lastCount(file);
        await waitForCount(file, at + 1);
        assert.deepEqual(await readdir(staging()), [], 'the staged images are removed');
      } else {
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stderr + r.stdout,
          new RegExp(
            `storing the checkpoint in s3://${BUCKET}/cut-false failed .*kept uncompressed in ${staging()}\\S* \\(a tmpfs: memory, lost at a reboot`,
          ),
        );
        const [c] = await checkpoints(jid);
        assert.ok(c?.path.startsWith(staging()), `kept locally: ${c?.path}`);
        const at = await lastCount(file);
        await d.ok(['restore', 'job', jid]);
        await waitForCount(file, at + 1, 30_000);
      }
      assert.deepEqual(await keys(`cut-${leaveRunning}/`), [], 'no object of the failed upload is in the bucket');
      await d.ok(['job', 'kill', jid]);
    });

    it(`--streams 2, server stopped mid-upload${leaveRunning ? ' (--leave-running)' : ''}: the shards were never on the local disk, nothing is registered, the job ${leaveRunning ? 'runs on' : 'is continued'}`, async () => {
      const jid = `cut-streams-${leaveRunning}`;
      const file = join(d.dir, `${jid}.count`);
      await d.ok(['run', 'process', '--jid', jid, '--', ...bigCounter(file, 128)]);
      await waitForCount(file, 2, 60_000);
      const args = ['dump', 'job', jid, '--dir', `s3://${BUCKET}/${jid}`, '--streams', '2'];
      // The shards' uploads send part 1 first (lib-storage); the server goes away once parts arrive.
      const parts = async () => (await readdir(s3.dir, { recursive: true })).map(String).filter((n) => /uploads\/[^/]+\/\d+$/.test(n));
      const old = new Set(await parts());
      const pid = (await d.json<{ jid: string; state: { pid: number } }[]>(['ps'])).find((j) => j.jid === jid)?.state.pid as number;
      const dump = d.cli(leaveRunning ? [...args, '--leave-running'] : args);
      await waitFor('a multipart upload under way', async () => ((await parts()).some((n) => !old.has(n)) ? true : undefined), 60_000);
      // While they upload, each shard in the staging folder is the pipe the daemon reads, not a file.
      // (The staging folder also holds the local checkpoint an archive dump above kept.)
      const ours = async () => (await readdir(staging())).filter((n) => n.includes(jid));
      const [folder] = await ours();
      const shards = await Promise.all(['img-0.lz4', 'img-1.lz4'].map((n) => lstat(join(staging(), folder as string, n))));
      assert.ok(
        shards.every((st) => st.isFIFO()),
        'the shards are pipes to their uploads',
      );
      // Without --leave-running: once CRIU is done the tree is kept stopped (not ended) until the
      // shards are stored; the server goes away then, with the last parts still to upload.
      if (!leaveRunning) await waitUntilStopped(pid);
      await s3.stop();
      const r = await dump;
      await s3.run();
      assert.notEqual(r.code, 0, 'the dump fails');
      assert.match(r.stderr, /CEDANA_ERR_STORAGE_(INTERRUPTED|UNREACHABLE)/, r.stderr);
      if (!leaveRunning) assert.match(r.stderr, /nothing was registered and the job was continued/, r.stderr);
      assert.equal((await checkpoints(jid)).length, 0, 'nothing is registered');
      assert.equal(await status(jid), 'running');
      const at = await lastCount(file);
      await waitForCount(file, at + 1);
      assert.deepEqual(await ours(), [], 'nothing of the dump is left in the staging folder');
      assert.deepEqual(await keys(`${jid}/`), [], 'no object of the failed upload is in the bucket');
      await d.ok(['job', 'kill', jid]);
    });
  }
});

/** Polls (often: the window is short) until `pid` is stopped (state T), as CRIU's --leave-stopped leaves it. */
async function waitUntilStopped(pid: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!/^\S+ \S+ T /.test((await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/\(.*\)/, 'x'))) {
    if (Date.now() > deadline) throw new Error(`PID ${pid} was not stopped within 60 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Every path seen under `dir` (relative), polled until stop(): what a dump stages there while it runs. */
function watchFolder(dir: string): { stop(): Promise<string[]> } {
  const seen = new Set<string>();
  let stopped = false;
  const polling = (async () => {
    while (!stopped) {
      for (const name of await readdir(dir, { recursive: true }).catch(() => [])) seen.add(String(name));
      await sleep(20);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await polling;
      return [...seen].sort();
    },
  };
}
