/**
 * Real dumps and restores with the CRIU of this machine, through the handlers as the
 * daemon calls them.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DumpReq, DumpResp, RestoreReq, RestoreResp } from '@cedana/core/proto';
import { isCedanaError, type Started } from '@cedana/plugin-sdk';
import { criuDump } from './dump.js';
import { criuRestore } from './restore.js';
import { dumpContext, restoreContext } from './testing/context.js';
import { collect, fdKey, ProcessRegister, readCount, startCounter, startEchoJob, waitFor } from './testing/jobs.js';

const register = new ProcessRegister();
const root = await mkdtemp(join(tmpdir(), 'criu-plugin-test-'));
after(async () => {
  register.killAll();
  await rm(root, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'images'), { recursive: true });
  return dir;
}

async function dump(pid: number, imagesDir: string, criu = {}) {
  const ctx = dumpContext(pid, imagesDir, criu);
  await criuDump(ctx, DumpReq.fromPartial({ pid }), DumpResp.fromPartial({}));
  return ctx;
}

async function restore(
  imagesDir: string,
  opts: Parameters<typeof restoreContext>[1] = {},
): Promise<{ started: Started; res: RestoreResp }> {
  const res = RestoreResp.fromPartial({});
  const started = await criuRestore(restoreContext(imagesDir, opts), RestoreReq.fromPartial({}), res);
  register.add(started.pid);
  return { started, res };
}

function ppidOf(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/stat`, 'utf8').then((s) => Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
}

test('a restored counter goes on from where it was dumped, and its exit code 7 is reported', async () => {
  const dir = await freshDir('counter');
  const images = join(dir, 'images');
  const job = startCounter(dir, register);
  await waitFor('the counter to pass 10', async () => (await readCount(dir)) >= 10);

  const ctx = await dump(job.pid, images);
  const atDump = await readCount(dir);
  assert.match(String(ctx.section<{ version: string }>()?.version), /^\d+\.\d+/);
  await job.exited; // CRIU killed it; Node reaped it

  const { started, res } = await restore(images);
  assert.equal(started.pid, job.pid);
  assert.equal(res.pid, job.pid);
  const ppid = await ppidOf(started.pid);
  assert.notEqual(ppid, process.pid, 'the restored process must not be a child of the daemon');
  assert.match(await readFile(`/proc/${ppid}/cmdline`, 'utf8'), /restore-shim\.pl/);

  await waitFor('the counter to move after the restore', async () => (await readCount(dir)) > atDump);
  const after = await readCount(dir);
  assert.ok(after > atDump && after < atDump + 15, `expected the counter to go on from ${atDump}, found ${after}`);

  await writeFile(join(dir, 'stop'), '');
  assert.deepEqual(await started.exited, { code: 7, signal: null });
  assert.equal(existsSync(`/proc/${started.pid}`), false, 'the restored process must be reaped, not left a zombie');
});

test('an attachable job gets its pipes back: input reaches it and its output reaches the daemon', async () => {
  const dir = await freshDir('echo');
  const images = join(dir, 'images');
  const job = await startEchoJob(register);
  const before = collect(job.stdout);
  job.stdin.write('a\n');
  await waitFor('the first echo', () => before.text().includes('out a'));
  const io = { stdin: fdKey(job.pid, 0), stdout: fdKey(job.pid, 1), stderr: fdKey(job.pid, 2) };
  assert.match(io.stdout, /^pipe:\[\d+\]$/);

  await dump(job.pid, images);
  await job.exited;
  for (const s of [job.stdin, job.stdout, job.stderr]) s.destroy();

  const { started } = await restore(images, { io });
  const { stdin, stdout, stderr } = started.stdio ?? {};
  assert.ok(stdin && stdout && stderr, 'all three streams come back');
  const out = collect(stdout);
  const err = collect(stderr);
  stdin.write('b\n');
  await waitFor('the echo after the restore', () => out.text().includes('out b') && err.text().includes('err b'));
  stdin.end(); // EOF ends the job's read loop: the shim must have closed its own copies
  assert.deepEqual(await started.exited, { code: 0, signal: null });
});

test('a restored process killed by a signal is reported with the signal name', async () => {
  const dir = await freshDir('killed');
  const images = join(dir, 'images');
  const job = startCounter(dir, register);
  await waitFor('the counter to start', async () => (await readCount(dir)) >= 1);
  await dump(job.pid, images);
  await job.exited;
  const { started } = await restore(images);
  process.kill(started.pid, 'SIGKILL');
  assert.deepEqual(await started.exited, { code: null, signal: 'SIGKILL' });
});

test('refuses to restore over a live process with CEDANA_ERR_PID_TAKEN, read from pstree.img', async () => {
  const dir = await freshDir('taken');
  const images = join(dir, 'images');
  const job = startCounter(dir, register);
  await waitFor('the counter to start', async () => (await readCount(dir)) >= 1);
  await dump(job.pid, images, { leaveRunning: true });
  const still = await readCount(dir);
  await waitFor('the counter to go on after a --leave-running dump', async () => (await readCount(dir)) > still);

  const files = await readdir(images);
  await assert.rejects(restore(images), (err) => {
    assert.ok(isCedanaError(err));
    assert.equal(err.code, 'CEDANA_ERR_PID_TAKEN');
    assert.match(err.message, new RegExp(`PID ${job.pid}`));
    return true;
  });
  await assert.rejects(restore(images, { manifest: { pid: process.pid } }), { code: 'CEDANA_ERR_PID_TAKEN' });
  assert.deepEqual(await readdir(images), files, 'the images are left as they were');
  job.child.kill('SIGKILL');
});

test('a failed dump says why, with the error lines of dump.log', async () => {
  const dir = await freshDir('no-such-pid');
  let pid = 4_000_000;
  while (existsSync(`/proc/${pid}`)) pid--;
  await assert.rejects(dump(pid, join(dir, 'images')), (err) => {
    assert.ok(isCedanaError(err));
    assert.equal(err.code, 'CEDANA_ERR_CRIU_DUMP');
    assert.match(err.message, new RegExp(`^criu dump of PID ${pid} failed \\(exit \\d+\\): \\S`));
    assert.doesNotMatch(err.message, /RLIMIT_NOFILE/);
    assert.ok(err.details.length >= 2, 'the log lines come as details');
    return true;
  });
});

test('a failed restore says why, with restore.log, and leaves the images', async () => {
  const dir = await freshDir('empty');
  const images = join(dir, 'images');
  await assert.rejects(restore(images), (err) => {
    assert.ok(isCedanaError(err));
    assert.equal(err.code, 'CEDANA_ERR_CRIU_RESTORE');
    assert.match(err.message, /^criu restore of .* failed \(exit \d+\): \S/);
    assert.ok(err.details.some((l) => /restore\.log/.test(l)));
    return true;
  });
  assert.ok(existsSync(images));
});

test('an aborted request runs no criu at all', async () => {
  const dir = await freshDir('aborted');
  const ctx = dumpContext(process.pid, join(dir, 'images'));
  const abort = new AbortController();
  abort.abort();
  await assert.rejects(criuDump({ ...ctx, signal: abort.signal }, DumpReq.fromPartial({}), DumpResp.fromPartial({})), {
    name: 'AbortError',
  });
  assert.deepEqual(await readdir(join(dir, 'images')), []);
});
