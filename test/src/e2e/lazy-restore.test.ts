/**
 * Lazy restore (`restore ... --lazy`, issue 17 item 5): CRIU's lazy-pages daemon serves the
 * pages of an uncompressed checkpoint folder over userfaultfd while the restored process
 * already runs. The process counts on, its memory is whole (the md5 of 256 MiB matches),
 * the checkpoint is not written to, and what cannot be restored lazily is refused.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { bigCounter, counterScript, counts, digests, lastCount, waitForCount } from '../harness/counter.js';
import { TestDaemon, waitFor } from '../harness/daemon.js';

const execP = promisify(execFile);

interface JobJson {
  jid: string;
  state: { pid: number; status: string; exitSignal?: string };
  lastCheckpoint?: { path: string };
}

describe('lazy restore', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  const job = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid) as JobJson;
  const exited = (jid: string) => waitFor(`${jid} exited`, async () => ((await job(jid)).state.status === 'exited' ? true : undefined));
  const daemonLog = () => readFile(join(d.dir, 'daemon.log'), 'utf8');
  /** The lines of the daemon log that say a lazy restore's memory is complete. */
  const residentLines = async () => (await daemonLog()).split('\n').filter((l) => l.includes('the whole memory is resident'));
  const listing = async (dir: string) =>
    Object.fromEntries(await Promise.all((await readdir(dir)).sort().map(async (f) => [f, (await stat(join(dir, f))).size] as const)));
  const kill = async (jid: string) => {
    await d.ok(['job', 'kill', jid]);
    await exited(jid);
  };

  it('restores a counter that counts on, without writing into the checkpoint', async () => {
    const file = join(d.dir, 'lazy.count');
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'lazy', '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    await d.ok(['dump', 'job', 'lazy', '--compression', 'none']);
    const atDump = await lastCount(file);
    const path = (await job('lazy')).lastCheckpoint?.path as string;
    const before = await listing(path);
    const resident = (await residentLines()).length;

    const r = await d.cli(['restore', 'job', 'lazy', '--lazy']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /lazy restore: the process runs while criu lazy-pages copies its memory in/);
    await waitForCount(file, atDump + 3);
    const all = await counts(file);
    assert.equal(all[all.indexOf(atDump) + 1], atDump + 1, 'it counts on from the checkpoint');
    await waitFor('the daemon log says the memory is resident', async () => ((await residentLines()).length > resident ? true : undefined));
    // CRIU's restore.log and stats-restore are what a restore leaves in a folder; the lazy-pages socket and log are not there.
    const afterRestore = await listing(path);
    for (const name of ['restore.log', 'stats-restore']) delete afterRestore[name];
    assert.deepEqual(afterRestore, before, 'the checkpoint folder holds what it held');
    await kill('lazy');

    // The same checkpoint restores again: as a new job by its path, lazily, and without --lazy.
    await d.ok(['restore', 'process', '--path', path, '--lazy', '-j', 'lazy2']);
    await waitForCount(file, (await lastCount(file)) + 1);
    await kill('lazy2');
    await d.ok(['restore', 'job', 'lazy']);
    await waitForCount(file, (await lastCount(file)) + 1);
    await kill('lazy');
  });

  it('brings back 256 MiB whose md5 matches', async () => {
    const file = join(d.dir, 'big.count');
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'big', '--', ...bigCounter(file, 256)]);
    const original = await waitFor('the first md5', async () => (await digests(file))[0]);
    await waitForCount(file, 2, 30_000);
    await d.ok(['dump', 'job', 'big', '--compression', 'none']);
    await d.ok(['restore', 'job', 'big', '--lazy']);
    const pid = (await job('big')).state.pid;
    process.kill(pid, 'SIGUSR1');
    const restored = await waitFor('the md5 after the restore', async () => (await digests(file))[1], 30_000);
    assert.equal(restored, original, 'the restored memory is the dumped memory');
    await kill('big');
  });

  it('restores a job of the host PID namespace', async () => {
    const file = join(d.dir, 'host.count');
    await d.ok(['run', 'process', '--jid', 'host', '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    await d.ok(['dump', 'job', 'host', '--compression', 'none']);
    const atDump = await lastCount(file);
    await d.ok(['restore', 'job', 'host', '--lazy']); // the PID may still be held: the restore retries
    await waitForCount(file, atDump + 2);
    const all = await counts(file);
    assert.equal(all[all.indexOf(atDump) + 1], atDump + 1);
    await kill('host');
  });

  it('refuses a PID that is taken without leaving a lazy-pages daemon behind (it starts beside the PID check)', async () => {
    const file = join(d.dir, 'taken.count');
    await d.ok(['run', 'process', '--jid', 'taken', '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    await d.ok(['dump', 'job', 'taken', '--compression', 'none', '--leave-running']);
    const { state, lastCheckpoint } = await job('taken');
    const path = lastCheckpoint?.path as string;
    const r = await d.cli(['restore', 'process', '--path', path, '--lazy', '-j', 'taken2']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /CEDANA_ERR_PID_TAKEN/);
    assert.match(r.stderr, new RegExp(String(state.pid)));
    const left = await execP('pgrep', ['-f', `lazy-pages -D ${path}`]).catch(() => ({ stdout: '' }));
    assert.equal(left.stdout.trim(), '', 'no criu lazy-pages of that checkpoint is left waiting');
    await kill('taken');
    // The checkpoint is intact: it restores lazily once the PID is free.
    await d.ok(['restore', 'job', 'taken', '--lazy']);
    await waitForCount(file, (await lastCount(file)) + 1);
    await kill('taken');
  });

  for (const [what, flags] of [
    ['a compressed checkpoint', ['--compression', 'lz4']],
    ['a streamed checkpoint', ['--compression', 'none', '--streams', '2']],
  ] as const) {
    it(`refuses ${what}, and the job still restores without --lazy`, async () => {
      const jid = what.includes('compressed') ? 'lz4' : 'streamed';
      const file = join(d.dir, `${jid}.count`);
      await d.ok(['run', 'process', '--pid-ns', '--jid', jid, '--', ...counterScript(file)]);
      await waitForCount(file, 3);
      await d.ok(['dump', 'job', jid, ...flags]);
      const r = await d.cli(['restore', 'job', jid, '--lazy']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /CEDANA_ERR_LAZY_CHECKPOINT/);
      assert.match(r.stderr, /--compression none/, 'says what to do');
      assert.equal((await job(jid)).state.status, 'checkpointed');
      await d.ok(['restore', 'job', jid]);
      await waitForCount(file, (await lastCount(file)) + 1);
      await kill(jid);
    });
  }

  it('kills a lazily restored process whose page file does not match checkpoint.json', async () => {
    const file = join(d.dir, 'bad.count');
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'bad', '--', ...bigCounter(file, 16)]);
    await waitForCount(file, 2, 30_000);
    await d.ok(['dump', 'job', 'bad', '--compression', 'none']);
    const path = (await job('bad')).lastCheckpoint?.path as string;
    const pages = (await readdir(path)).find((f) => /^pages-\d+\.img$/.test(f)) as string;
    // A byte in the middle: inside the counter's 16 MiB of data, which it only hashes.
    const at = Math.floor((await stat(join(path, pages))).size / 2);
    const fh = await open(join(path, pages), 'r+');
    try {
      const one = Buffer.alloc(1);
      await fh.read(one, 0, 1, at);
      one[0] = (one[0] ?? 0) ^ 0xff; // same size, one byte changed
      await fh.write(one, 0, 1, at);
    } finally {
      await fh.close();
    }
    await d.cli(['restore', 'job', 'bad', '--lazy']); // the process may run before the pages are checked
    await exited('bad');
    assert.equal((await job('bad')).state.exitSignal, 'SIGKILL');
    await waitFor('the log names the damaged file', async () =>
      (await daemonLog()).includes(`checkpoint file ${pages} does not match its xxh64`) ? true : undefined,
    );
  });

  it('says so when the lazy-pages daemon cannot start, and the checkpoint still restores', async () => {
    // A criu that refuses only `lazy-pages`: every other command is the real one.
    const criu = join(d.dir, 'criu-no-lazy');
    await writeFile(
      criu,
      `#!/bin/sh\nif [ "$1" = lazy-pages ]; then echo "Error (criu/uffd.c:1): uffd: test refuses lazy-pages" >&2; exit 1; fi\nexec criu "$@"\n`,
    );
    await chmod(criu, 0o755);
    const other = await TestDaemon.start({ CEDANA_CRIU_BINARY_PATH: criu });
    try {
      const file = join(other.dir, 'nolazy.count');
      await other.ok(['run', 'process', '--pid-ns', '--jid', 'nolazy', '--', ...counterScript(file)]);
      await waitForCount(file, 3);
      await other.ok(['dump', 'job', 'nolazy', '--compression', 'none']);
      const r = await other.cli(['restore', 'job', 'nolazy', '--lazy']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /CEDANA_ERR_CRIU_LAZY_PAGES/);
      assert.match(r.stderr, /uffd-noncoop|restore it again, or without --lazy/, 'says what to do');
      await other.ok(['restore', 'job', 'nolazy']);
      await waitForCount(file, (await lastCount(file)) + 1);
      await other.ok(['job', 'kill', 'nolazy']);
    } finally {
      await other.stop();
    }
  });
});
