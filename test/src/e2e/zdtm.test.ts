/**
 * CRIU's own ZDTM tests through cedana (issue 13, item 7: a restore repeats the dump's options).
 * scripts/install-zdtm.sh builds them from criu's Debian source into CEDANA_ZDTM_DIR/bin.
 *
 * Each runs the way CRIU's test/zdtm.py runs a static test on the host: started with
 * `--pidfile --outfile --filename`, it daemonizes (a session leader, stdio on its outfile and
 * /dev/null), writes the daemon's PID to the pidfile and waits for SIGTERM; then it checks that
 * what it set up survived and writes PASS or FAIL to its outfile. Here cedana adopts the PID
 * (`manage process`), dumps and restores it as a job in between. zdtm.py also runs the test
 * under another user ID (ZDTM_UID...); that is left out: root here lacks CAP_SYS_RESOURCE, and
 * CRIU cannot dump a process of another user without it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Checkpoint } from '@cedana/core/proto';
import { TestDaemon, waitFor } from '../harness/daemon.js';

const ZDTM_BIN = join(process.env.CEDANA_ZDTM_DIR ?? '/var/cache/cedana-zdtm', 'bin');
const FILE_LOCKS00 = join(ZDTM_BIN, 'file_locks00');
const missing = existsSync(FILE_LOCKS00) ? false : `${FILE_LOCKS00} is not built: run scripts/install-zdtm.sh`;

interface ZdtmTest {
  pid: number;
  /** The outfile's text once the test has ended (zdtm.py's "result check"). */
  stop(): Promise<string>;
}

/** Starts a ZDTM static test in `dir` as zdtm.py does, and returns the PID of its daemon. */
async function startZdtm(bin: string, dir: string): Promise<ZdtmTest> {
  await mkdir(dir, { recursive: true });
  const name = join(dir, 'test');
  // The launcher exits once the daemon is ready and its PID is in the pidfile.
  await promisify(execFile)(bin, [`--pidfile=${name}.pid`, `--outfile=${name}.out`, `--filename=${name}.test`], { cwd: dir });
  const pid = Number((await readFile(`${name}.pid`, 'utf8')).trim());
  assert.ok(pid > 0, 'the pidfile holds the PID of the test');
  return {
    pid,
    async stop() {
      process.kill(pid, 'SIGTERM');
      await waitFor(`PID ${pid} to end`, () => (existsSync(`/proc/${pid}`) ? undefined : true), 20_000);
      // The test renames .out.inprogress to .out as it exits.
      return waitFor(`${name}.out`, () => readFile(`${name}.out`, 'utf8').catch(() => undefined));
    },
  };
}

/** The kinds of lock (`POSIX ADVISORY WRITE`, ...) that /proc/locks lists for `pid`. */
async function locksOf(pid: number): Promise<string[]> {
  const text = await readFile('/proc/locks', 'utf8');
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((cols) => cols[4] === String(pid))
    .map((cols) => cols.slice(1, 4).join(' '))
    .sort();
}

describe('ZDTM file_locks00 through cedana', { skip: missing }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  /** Starts file_locks00, manages it as job `jid`, dumps it with --file-locks and returns it. */
  async function dumped(jid: string): Promise<ZdtmTest> {
    const t = await startZdtm(FILE_LOCKS00, join(d.dir, jid));
    assert.deepEqual(await locksOf(t.pid), ['POSIX ADVISORY READ', 'POSIX ADVISORY WRITE'], 'the test holds its two locks');
    await d.ok(['manage', 'process', '--pid', String(t.pid), '--jid', jid]);
    await d.ok(['dump', 'job', jid, '--file-locks']);
    return t;
  }

  it('restore job repeats the dump’s --file-locks: the locks come back and the test says PASS', async () => {
    const t = await dumped('fl-repeat');
    const [ck] = await d.json<Checkpoint[]>(['checkpoints', 'fl-repeat']);
    const inspected = await d.json<{ manifest: { criuOptions?: Record<string, unknown> } }>(['checkpoint', 'inspect', ck?.id ?? '']);
    assert.equal(inspected.manifest.criuOptions?.fileLocks, true, 'checkpoint.json records --file-locks');

    await d.ok(['restore', 'job', 'fl-repeat']);
    assert.deepEqual(await locksOf(t.pid), ['POSIX ADVISORY READ', 'POSIX ADVISORY WRITE'], 'the restored process holds its locks');
    const out = await t.stop();
    assert.match(out, /\bPASS\b/, `file_locks00's outfile:\n${out}`);
  });

  it('restore job --no-file-locks restores without them: the locks are lost and the test says FAIL', async () => {
    const t = await dumped('fl-dropped');
    await d.ok(['restore', 'job', 'fl-dropped', '--no-file-locks']);
    assert.deepEqual(await locksOf(t.pid), [], 'CRIU dropped the locks it was not told to restore');
    const out = await t.stop();
    assert.match(out, /FAIL: .*lock check failed/, `file_locks00's outfile:\n${out}`);
    assert.doesNotMatch(out, /\bPASS\b/);
  });
});
