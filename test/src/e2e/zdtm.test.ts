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
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Checkpoint } from '@cedana/core/proto';
import { IMAGE, TestContainerd } from '../harness/containerd.js';
import { TestDaemon, waitFor } from '../harness/daemon.js';
import { containerId, makeBundle, removeAllContainers, removeJobLogs } from '../harness/runc.js';

const ZDTM_BIN = join(process.env.CEDANA_ZDTM_DIR ?? '/var/cache/cedana-zdtm', 'bin');
const FILE_LOCKS00 = join(ZDTM_BIN, 'file_locks00');
const missing = existsSync(FILE_LOCKS00) ? false : `${FILE_LOCKS00} is not built: run scripts/install-zdtm.sh`;
/** Linked statically, for a busybox container. */
const FILE_LOCKS00_STATIC = join(ZDTM_BIN, 'static', 'file_locks00');
const missingStatic = existsSync(FILE_LOCKS00_STATIC) ? false : `${FILE_LOCKS00_STATIC} is not built: run scripts/install-zdtm.sh`;

/** Host PIDs of the tests started, killed at the end if a failed test left one running (with its checker child). */
const started = new Set<number>();
function killStarted(): void {
  for (const pid of started) {
    const cmdline = (() => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (cmdline.includes('file_locks00')) process.kill(pid, 'SIGTERM'); // still the test, not a reused PID
  }
}

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
  started.add(pid);
  assert.ok(pid > 0, 'the pidfile holds the PID of the test');
  return {
    pid,
    async stop() {
      started.delete(pid);
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
    killStarted();
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

/** The host PID of the process that is `nsPid` in the PID namespace of `inNsOf`. */
async function hostPidOf(inNsOf: number, nsPid: number): Promise<number> {
  const ns = await readlink(`/proc/${inNsOf}/ns/pid`);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const same = await readlink(`/proc/${entry}/ns/pid`).then(
      (l) => l === ns,
      () => false,
    );
    if (!same) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const ids = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    if (ids?.at(-1) === String(nsPid)) return Number(entry);
  }
  throw new Error(`no process is PID ${nsPid} in the PID namespace of ${inNsOf}`);
}

describe('ZDTM file_locks00 in a runc container through cedana', { skip: missingStatic }, () => {
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

  it('runc restore repeats the dump’s --file-locks: the test in the container says PASS', async () => {
    const dir = join(d.dir, 'fl-runc');
    // The container's init starts the test (which daemonizes, its files on the /data bind mount), then sleeps.
    // It runs in /data, as zdtm.py runs a test in its folder: the pidfile is renamed into place there.
    const args = ['sh', '-c', 'cd /data && /bin/file_locks00 --pidfile=t.pid --outfile=t.out --filename=t.test; exec sleep 1000000'];
    const data = await makeBundle(dir, { args });
    await copyFile(FILE_LOCKS00_STATIC, join(dir, 'rootfs', 'bin', 'file_locks00'));
    const id = containerId('fl');
    const jid = `runc-${id}`;
    await d.ok(['run', 'runc', '--bundle', dir, '--id', id, '--root', root, '--jid', jid]);
    const nsPid = await waitFor(
      'the test’s pidfile',
      async () => Number(await readFile(join(data, 't.pid'), 'utf8').catch(() => '')) || undefined,
    );
    const initPid = async () =>
      (await d.json<{ jid: string; state: { pid: number } }[]>(['ps'])).find((j) => j.jid === jid)?.state.pid ?? 0;
    assert.deepEqual(await locksOf(await hostPidOf(await initPid(), nsPid)), ['POSIX ADVISORY READ', 'POSIX ADVISORY WRITE']);

    await d.ok(['dump', 'job', jid, '--file-locks']);
    await d.ok(['restore', 'job', jid]);
    const pid = await hostPidOf(await initPid(), nsPid);
    assert.deepEqual(await locksOf(pid), ['POSIX ADVISORY READ', 'POSIX ADVISORY WRITE'], 'the restored container holds the locks');
    process.kill(pid, 'SIGTERM');
    const out = await waitFor('/data/t.out', () => readFile(join(data, 't.out'), 'utf8').catch(() => undefined), 20_000);
    assert.match(out, /\bPASS\b/, `file_locks00's outfile:\n${out}`);
    await d.ok(['job', 'kill', jid]);
  });
});

describe('ZDTM file_locks00 in a containerd container through cedana', { skip: missingStatic }, () => {
  let c: TestContainerd;
  let d: TestDaemon;
  before(async () => {
    c = await TestContainerd.start({ extraBins: { [FILE_LOCKS00_STATIC]: 'file_locks00' } });
    d = await TestDaemon.start({ CONTAINERD_ADDRESS: c.socket });
  });
  after(async () => {
    await removeJobLogs(d).catch(() => {});
    await d?.stop();
    await c?.stop();
  });

  it('a restore through the runc shim repeats --file-locks (a CRIU config file): PASS, and the container dumps again', async () => {
    const ns = await c.namespace();
    const id = containerId('fl');
    // In /tmp of the container's writable layer, kept by --rootfs: the test's files are open there.
    const script = 'cd /tmp && /bin/file_locks00 --pidfile=t.pid --outfile=t.out --filename=t.test; exec sleep 1000000';
    await d.ok(['run', 'containerd', '--image', IMAGE, '--id', id, '--namespace', ns, '--jid', `ctd-${id}`, '--', 'sh', '-c', script]);
    const init = () => c.task(ns, id)?.pid ?? 0;
    const nsPid = await waitFor(
      'the test’s pidfile',
      async () => Number(await readFile(`/proc/${init()}/root/tmp/t.pid`, 'utf8').catch(() => '')) || undefined,
    );
    const out = await d.ok([
      'dump',
      'containerd',
      '--id',
      id,
      '--namespace',
      ns,
      '--rootfs',
      '--file-locks',
      '--dir',
      join(d.dir, 'fl-ctd'),
    ]);
    const path = /to (\S+) \(/.exec(out)?.[1];
    assert.ok(path, out);

    const moved = containerId('fl-moved');
    const restored = await d.ok(['restore', 'containerd', '--id', moved, '--path', path, '--namespace', ns]);
    const jid = /restored job (\S+)/.exec(restored)?.[1] ?? '';
    const movedInit = c.task(ns, moved)?.pid ?? 0;
    const pid = await hostPidOf(movedInit, nsPid);
    assert.deepEqual(await locksOf(pid), ['POSIX ADVISORY READ', 'POSIX ADVISORY WRITE'], 'the restored container holds the locks');
    process.kill(pid, 'SIGTERM');
    const result = await waitFor('/tmp/t.out', () => readFile(`/proc/${movedInit}/root/tmp/t.out`, 'utf8').catch(() => undefined), 20_000);
    assert.match(result, /\bPASS\b/, `file_locks00's outfile:\n${result}`);

    // The restored container names a CRIU config file that is gone now: CRIU ignores it at the next dump.
    await d.ok(['dump', 'job', jid, '--compression', 'none']);
    await d.ok(['restore', 'job', jid]);
    assert.equal(c.task(ns, moved)?.status, 'running');
    await d.ok(['job', 'kill', jid]);
  });
});
