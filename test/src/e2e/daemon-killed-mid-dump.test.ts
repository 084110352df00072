/**
 * Issue 13, items 2 and 3: a daemon killed (kill -9) in the middle of a dump loses nothing.
 * On its next start it finishes the dump into a registered checkpoint, or continues the
 * job and removes what the dump left; no CRIU or streamer of the dump outlives it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bigCounter, counts, lastCount, waitForCount } from '../harness/counter.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';

interface JobJson {
  jid: string;
  state: { pid: number; status: string };
  lastCheckpoint?: { path: string; compression: string };
}

/** PIDs whose command line names `path` (CRIU's -D, the streamer's title). */
function processesNaming(path: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', path], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Polls every 10 ms (CRIU writes hundreds of MiB a second) until `check` returns a value. */
async function watch<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(10)) {
    const v = await check();
    if (v !== undefined) return v;
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The single checkpoint folder CRIU writes into under `dir`, once it has one. */
async function imagesFolder(dir: string): Promise<string | undefined> {
  const name = (await readdir(dir)).find((n) => !n.includes('.tar'));
  return name ? join(dir, name) : undefined;
}

const criuDone = async (folder: string) =>
  (await readFile(join(folder, 'dump.log'), 'utf8').catch(() => '')).includes('Dumping finished successfully');

/** Every count follows the one before it: a restored process went on from where it stopped. */
async function assertCountsGoOn(file: string): Promise<void> {
  const all = await counts(file);
  const broken = all.findIndex((n, i) => i > 0 && n !== (all[i - 1] as number) + 1);
  assert.equal(
    broken,
    -1,
    `the count went on from where it was dumped: ... ${all.slice(Math.max(0, broken - 2), broken + 2).join(' ')} ...`,
  );
}

describe('a daemon killed during a dump (kill -9) loses nothing', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  const job = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid) as JobJson;
  const start = async (jid: string, mib: number) => {
    const file = join(d.dir, `${jid}.count`);
    await d.ok(['run', 'process', '--jid', jid, '--', ...bigCounter(file, mib)]);
    await waitForCount(file, 3, 30_000);
    const dir = join(d.dir, 'dumps', jid); // its name is in no job's command line (pgrep -f)
    await mkdir(dir, { recursive: true });
    return { file, dir };
  };

  it('killed after CRIU finished a zstd dump: on restart the checkpoint is packed and registered, restore goes on counting', async (t) => {
    const jid = 'packing';
    const { file, dir } = await start(jid, 600);
    const dump = d.cli(['dump', 'job', jid, '--compression', 'zstd', '--dir', dir]);
    const folder = await watch('CRIU to finish', async () => {
      const f = await imagesFolder(dir);
      return f && (await criuDone(f)) ? f : undefined;
    });
    await d.killDaemon();
    assert.notEqual((await dump).code, 0, 'the dump command saw its daemon die');
    const archive = `${folder}.tar.zst`;
    assert.ok(!existsSync(archive), 'the daemon was killed before its archive was complete');
    const atDump = await lastCount(file);

    const restartedAt = Date.now();
    await d.restart();
    t.diagnostic(`the daemon answered ${Date.now() - restartedAt} ms after it was started again (recovery packs first)`);
    const j = await job(jid);
    assert.equal(j.state.status, 'checkpointed');
    assert.equal(j.lastCheckpoint?.path, archive);
    assert.equal(j.lastCheckpoint?.compression, 'zstd');
    const registered = (await d.json<{ jid: string; path: string }[]>(['checkpoints'])).filter((c) => c.jid === jid);
    assert.deepEqual(
      registered.map((c) => c.path),
      [archive],
    );
    assert.deepEqual(await readdir(dir), [basename(archive)], 'no images folder or partial archive is left');

    await d.ok(['restore', 'job', jid]);
    await waitForCount(file, atDump + 2, 30_000);
    await assertCountsGoOn(file);
    await d.ok(['job', 'kill', jid]);
  });

  it('killed while CRIU dumps: after restart the job runs, or is checkpointed and restores; it is never lost', async (t) => {
    const jid = 'freezing';
    const { file, dir } = await start(jid, 800);
    const dump = d.cli(['dump', 'job', jid, '--compression', 'lz4', '--dir', dir]);
    // Once CRIU has written some pages, and before it says it is done.
    const caught = await watch('CRIU writing pages', async () => {
      const f = await imagesFolder(dir);
      if (!f) return undefined;
      if (await criuDone(f)) return false;
      const pages = (await readdir(f).catch(() => [] as string[])).find((n) => n.startsWith('pages-'));
      return pages && ((await stat(join(f, pages)).catch(() => undefined))?.size ?? 0) > 16 << 20 ? true : undefined;
    });
    await d.killDaemon();
    assert.ok(caught, 'the daemon was killed while CRIU was dumping');
    await dump;

    await d.restart();
    const j = await job(jid);
    t.diagnostic(`after the restart the job is ${j.state.status}`);
    assert.ok(['running', 'checkpointed'].includes(j.state.status), `job is ${j.state.status}`);
    if (j.state.status === 'checkpointed') {
      assert.deepEqual(await readdir(dir), [basename(j.lastCheckpoint?.path ?? '')], 'only the archive is left');
      await d.ok(['restore', 'job', jid]);
    } else {
      assert.deepEqual(await readdir(dir), [], 'the partial checkpoint was removed');
    }
    const now = await lastCount(file);
    await waitForCount(file, now + 2, 30_000);
    await assertCountsGoOn(file);
    await d.ok(['job', 'kill', jid]);
  });

  for (const leaveRunning of [true, false]) {
    const flags = leaveRunning ? ['--leave-running'] : [];
    it(`killed during dump --streams 2${leaveRunning ? ' --leave-running' : ''}: no CRIU or streamer is left, the job counts on`, async () => {
      const jid = leaveRunning ? 'stream-lr' : 'stream';
      const { file, dir } = await start(jid, 512);
      const dump = d.cli(['dump', 'job', jid, '--streams', '2', ...flags, '--dir', dir]);
      await watch('the streamer writing its shards', async () => {
        const f = await imagesFolder(dir);
        const size = f ? ((await stat(join(f, 'img-0.lz4')).catch(() => undefined))?.size ?? 0) : 0;
        return size > 1 << 20 ? true : undefined;
      });
      await d.killDaemon();
      await dump;
      try {
        await waitFor('no CRIU or streamer of the dump', () => (processesNaming(dir).length === 0 ? true : undefined), 10_000);
      } finally {
        for (const pid of processesNaming(dir)) process.kill(pid, 'SIGKILL'); // what an old daemon left, so the next test can run
      }

      await d.restart();
      const j = await job(jid);
      assert.equal(j.state.status, 'running');
      const now = await lastCount(file);
      await waitForCount(file, now + 2);
      assert.deepEqual(await readdir(dir), [], 'the partial checkpoint was removed');
      const list = await d.json<{ jid: string }[]>(['checkpoints']);
      assert.ok(!list.some((c) => c.jid === jid), 'no checkpoint recorded');
      await d.ok(['job', 'kill', jid]);
    });
  }
});
