import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnJob } from './spawn-job.js';

/** The session ID of `pid` (field 6 of /proc/PID/stat). */
async function sessionOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

describe('spawnJob', () => {
  let dir: string;
  // spawnJob unrefs the child (the daemon must not wait for its jobs): keep this loop alive.
  const alive = setInterval(() => {}, 1000);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cedana-spawn-job-'));
  });
  after(async () => {
    clearInterval(alive);
    await rm(dir, { recursive: true, force: true });
  });

  it('starts the program as a session leader with only fds 0-2, its output appended to the log', async () => {
    const log = join(dir, 'job.log');
    const job = await spawnJob('sh', ['-c', 'echo out; echo err >&2; exec sleep 30'], { log });
    try {
      // Until the exec, the PID is the fd-closing perl: wait for `sleep` (bounded).
      for (let i = 0; i < 100 && (await readFile(`/proc/${job.pid}/comm`, 'utf8')).trim() !== 'sleep'; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(await sessionOf(job.pid), job.pid);
      assert.deepEqual((await readdir(`/proc/${job.pid}/fd`)).sort(), ['0', '1', '2']);
      for (let i = 0; i < 50 && !(await readFile(log, 'utf8')).includes('err'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual((await readFile(log, 'utf8')).split('\n').sort(), ['', 'err', 'out']);
    } finally {
      process.kill(job.pid, 'SIGKILL');
    }
    assert.deepEqual(await job.exited, { code: null, signal: 'SIGKILL' });
  });

  it('resolves exited once with the exit code', async () => {
    const job = await spawnJob('sh', ['-c', 'exit 7']);
    assert.deepEqual(await job.exited, { code: 7, signal: null });
  });

  it('refuses a program that does not exist with CEDANA_ERR_RUN_FAILED', async () => {
    await assert.rejects(spawnJob('no-such-program-here', []), { code: 'CEDANA_ERR_RUN_FAILED', message: /no such executable in PATH/ });
  });
});
