/**
 * `cedana migrate job J --to ADDRESS --lazy` (post-copy): two daemons on this machine as two
 * hosts, the target in a network and mount namespace of its own (harness/target-host.ts),
 * reached over TCP with its token. The jobs run under --pid-ns: on one machine the source keeps
 * the frozen tree's PIDs until the copy ends, and the restore there rebuilds the job's mount
 * namespace from the target's own mounts. CRIU's page traffic goes through the two daemons
 * (MigratePages), never a port of its own.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bigCounter, counterScript, counts, digests, lastCount, waitForCount } from '../harness/counter.js';
import { countingServer } from '../harness/counting-server.js';
import { TestDaemon, waitFor } from '../harness/daemon.js';
import { TargetHost } from '../harness/target-host.js';

interface JobJson {
  jid: string;
  migratedTo?: string;
  state: { pid: number; status: string; startTicks: number };
}

// Per run: two sessions running this file at once would see each other's staged images.
const MIGRATE_DIR = `/dev/shm/cedana-e2e-migrate-lazy-src-${process.pid}`;
const jobOf = async (d: { json<T>(a: string[]): Promise<T> }, jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid);

function assertNoGap(all: number[], what: string): void {
  for (let i = 1; i < all.length; i++) assert.equal(all[i], (all[i - 1] as number) + 1, `${what}: ${all.slice(Math.max(0, i - 3), i + 2)}`);
}

/** Whether the process is stopped (CRIU's seize: the tree is frozen). */
async function frozen(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return / [tT] /.test(stat.slice(stat.lastIndexOf(')')));
}

describe('post-copy migration (--lazy) to a daemon in its own network and mount namespace, over TCP with its token', () => {
  let src: TestDaemon;
  let t: TargetHost;
  const to = () => ['--to', t.address, '--token', t.token, '--lazy'];
  before(async () => {
    // CRIU's page server sizes its pipes past the default 1 MiB, which needs this or CAP_SYS_RESOURCE.
    const max = Number((await readFile('/proc/sys/fs/pipe-max-size', 'utf8')).trim());
    if (max < 4 << 20) await writeFile('/proc/sys/fs/pipe-max-size', String(4 << 20));
    await rm(MIGRATE_DIR, { recursive: true, force: true });
    src = await TestDaemon.start({ CEDANA_MIGRATE_DIR: MIGRATE_DIR });
    t = await TargetHost.create();
  });
  after(async () => {
    await t?.destroy();
    await src?.stop();
    await rm(MIGRATE_DIR, { recursive: true, force: true });
  });

  it('moves a counter under --pid-ns that goes on counting there with no gap', async () => {
    const file = join(src.dir, 'lazy.count');
    await src.ok(['run', 'process', '--pid-ns', '--jid', 'lazy', '--', ...counterScript(file)]);
    await waitForCount(file, 5);
    const out = await src.ok(['migrate', 'job', 'lazy', ...to(), '--json']);
    const resp = JSON.parse(out) as { targetJid: string; messages: string[]; times: { downtimeMs: number; pagesMs?: number } };
    assert.equal(resp.targetJid, 'lazy');
    assert.deepEqual(
      resp.messages.filter((m) => /went over gRPC/.test(m)),
      [],
      'the images and the pages went over the data connection',
    );
    assert.ok(resp.times.downtimeMs > 0, out);
    const atMigration = await lastCount(file);
    await waitForCount(file, atMigration + 5);
    assertNoGap(await counts(file), 'the counter');
    const here = await jobOf(src, 'lazy');
    assert.equal(here?.state.status, 'migrated');
    assert.equal(here?.migratedTo, `${t.address} lazy`);
    assert.equal((await jobOf(t, 'lazy'))?.state.status, 'running');
    assert.deepEqual(await readdir(MIGRATE_DIR), [], 'nothing staged stays on the source');
    assert.deepEqual(await src.json<unknown[]>(['checkpoints']), [], 'no checkpoint on the source');
    await waitFor('the target to drop what it received once the pages are in', async () =>
      (await t.inside(['ls', '-A', `${t.root}/migrate`])).stdout === '' ? true : undefined,
    );
    await t.ok(['job', 'kill', 'lazy']);
  });

  it('moves a TCP server that keeps its listening socket and its in-memory count', async () => {
    const server = countingServer(17_804);
    await src.ok(['run', 'process', '--pid-ns', '--jid', 'lazytcp', '--env', 'UV_USE_IO_URING=0', '--', ...server.argv]);
    await waitFor('server up', server.askHere);
    assert.equal(await server.askHere(), '2');
    await src.ok(['migrate', 'job', 'lazytcp', ...to()]);
    assert.equal(await server.askHere(), undefined, 'nothing listens here any more');
    assert.equal(await waitFor('server there', () => server.askThere(t)), '3', 'the count goes on from 2, in the target namespace');
    await t.ok(['job', 'kill', 'lazytcp']);
  });

  it('moves 256 MiB whose md5 matches on the target', async () => {
    const file = join(src.dir, 'lazybig.count');
    await src.ok(['run', 'process', '--pid-ns', '--jid', 'lazybig', '--', ...bigCounter(file, 256)]);
    const original = await waitFor('the first md5', async () => (await digests(file))[0], 60_000);
    await src.ok(['migrate', 'job', 'lazybig', ...to()]);
    const there = await jobOf(t, 'lazybig');
    assert.equal(there?.state.status, 'running');
    process.kill(there?.state.pid ?? 0, 'SIGUSR1');
    const after = await waitFor('the md5 on the target', async () => (await digests(file))[1], 60_000);
    assert.equal(after, original, 'the memory that arrived is the memory that left');
    await waitForCount(file, (await lastCount(file)) + 3, 20_000);
    assertNoGap(await counts(file), 'the big counter');
    await t.ok(['job', 'kill', 'lazybig']);
  });

  it('leaves the job running on the source when the target dies before the job resumed there', async () => {
    const file = join(src.dir, 'lazyfail.count');
    await src.ok(['run', 'process', '--pid-ns', '--jid', 'lazyfail', '--', ...bigCounter(file, 256)]);
    await waitForCount(file, 3, 60_000);
    const before = await jobOf(src, 'lazyfail');
    const pid = before?.state.pid ?? 0;
    const migrating = src.cli(['migrate', 'job', 'lazyfail', ...to()]);
    await waitFor('the tree to freeze', async () => ((await frozen(pid)) ? true : undefined), 60_000);
    await t.killDaemon();
    const r = await migrating;
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_MIGRATE_FAILED/);
    assert.match(r.stderr, /the job runs here again \(PID \d+\)/);
    const here = await jobOf(src, 'lazyfail');
    assert.equal(here?.state.status, 'running');
    assert.equal(here?.state.pid, pid, 'the same process, resumed');
    const atFailure = await lastCount(file);
    await waitForCount(file, atFailure + 3, 20_000);
    assertNoGap(await counts(file), 'the counter');
    assert.deepEqual(await readdir(MIGRATE_DIR), [], 'the images went');
    await t.startDaemon();
    assert.equal(await jobOf(t, 'lazyfail'), undefined, 'the target made no job');
    assert.equal((await t.inside(['ls', '-A', `${t.root}/migrate`])).stdout, '', 'and kept nothing of what it had received');
    await src.ok(['job', 'kill', 'lazyfail']);
  });
});
