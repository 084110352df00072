/** The real holder (perl) with real jobs: no daemon, the test is the holder's client. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { encodeFrame } from './holder-frames.js';
import { adoptStdio, type HolderLink, holderSocket, reconnectHolder, startHeldRun } from './io-holder.js';

/** Collects a stream's text; `until` resolves once it matches. */
function text(stream: Readable): { until(re: RegExp): Promise<string>; all(): string } {
  let got = '';
  const waiters: (() => void)[] = [];
  stream.on('data', (c: Buffer) => {
    got += c.toString();
    for (const w of waiters.splice(0)) w();
  });
  return {
    all: () => got,
    until: (re) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in ${JSON.stringify(got)}`)), 10_000);
        const check = () => {
          if (re.test(got)) {
            clearTimeout(timer);
            resolve(got);
          } else waiters.push(check);
        };
        check();
      }),
  };
}

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function gone(path: string): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!(await stat(path).catch(() => undefined))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('io holder', () => {
  let root: string;
  let dir: string;
  let n = 0;
  const place = () => {
    n++;
    return { dir, jid: `job-${n}`, log: join(root, `job-${n}.log`) };
  };
  const sh = (script: string, statusFile = join(root, `status-${n}.json`)) => ({
    file: '/bin/sh',
    args: ['-c', script],
    cwd: root,
    env: { PATH: process.env.PATH, GREETING: 'hello' },
    statusFile,
  });

  // The holder's socket is unref'd (the daemon's server keeps the loop alive): so does this.
  let keepAlive: NodeJS.Timeout;
  before(async () => {
    keepAlive = setInterval(() => {}, 1000);
    root = await mkdtemp(join(tmpdir(), 'cedana-io-holder-'));
    dir = join(root, 'io');
  });
  after(async () => {
    clearInterval(keepAlive);
    await rm(root, { recursive: true, force: true });
  });

  it('runs the job with its env and cwd, relays stdin and both outputs, logs them, and reports the exit code', async () => {
    const p = place();
    const statusFile = join(root, 'run.json');
    const { pid, link } = await startHeldRun(p, sh('read l; echo "$GREETING $l in $(pwd)"; echo oops >&2; exit 4', statusFile));
    assert.ok(pid > 0);
    const out = text(link.stdio.stdout);
    const err = text(link.stdio.stderr);
    link.stdio.stdin.write('world\n');
    assert.deepEqual(await link.exited, { code: 4, signal: null });
    assert.equal(out.all(), `hello world in ${root}\n`);
    assert.equal(err.all(), 'oops\n');
    assert.equal(await readFile(p.log, 'utf8'), `hello world in ${root}\noops\n`);
    assert.equal((await readFile(statusFile, 'utf8')).trim(), '{"code":4}');
    assert.ok(await gone(holderSocket(dir, p.jid)), 'the holder ends with its job and removes its socket');
    assert.equal(((await stat(dir)).mode & 0o777).toString(8), '700');
  });

  it('keeps the job when its client goes, and replays the scrollback to the next one', async () => {
    const p = place();
    const { link } = await startHeldRun(p, sh('echo early; while read l; do echo "got $l"; done; exit 9'));
    await text(link.stdio.stdout).until(/early\n/);
    const again = (await reconnectHolder(dir, p.jid)) as HolderLink; // the daemon came back
    assert.ok(again);
    const out = text(again.stdio.stdout);
    await out.until(/^early\n/);
    again.stdio.stdin.write('more\n');
    await out.until(/got more\n/);
    again.stdio.stdin.end(); // EOF on the job's stdin
    assert.deepEqual(await again.exited, { code: 9, signal: null });
    assert.equal(await link.exited, null, 'the replaced client hears no exit');
  });

  it('never makes the job wait for a client that does not read: the log gets everything', async () => {
    const p = place();
    const statusFile = join(root, 'flood.json');
    const { link } = await startHeldRun(p, sh('read go; head -c 20000000 /dev/zero; exit 3', statusFile));
    const stuck = connect(holderSocket(dir, p.jid)); // replaces the link, and never reads
    await new Promise((r) => stuck.once('connect', r));
    stuck.pause();
    stuck.write(encodeFrame('i', Buffer.from('go\n')));
    assert.equal(await link.exited, null, 'the replaced client');
    await waitUntil(() => existsSync(statusFile));
    assert.equal((await readFile(statusFile, 'utf8')).trim(), '{"code":3}');
    assert.ok(await gone(holderSocket(dir, p.jid)), 'the holder has drained the pipes and ended');
    assert.equal((await stat(p.log)).size, 20_000_000);
    stuck.destroy();
  });

  it('reports a signal, and fails the start when the program cannot be run', async () => {
    const { pid, link } = await startHeldRun(place(), sh('sleep 30'));
    process.kill(pid, 'SIGTERM');
    assert.deepEqual(await link.exited, { code: null, signal: 'SIGTERM' });
    await assert.rejects(startHeldRun(place(), { ...sh(''), cwd: join(root, 'no-such-dir') }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CEDANA_ERR_RUN_FAILED');
      assert.match(e.message, /no-such-dir/);
      return true;
    });
  });

  it('adopts the streams of a job that runs already, with the output they had read before', async () => {
    const job = spawn('sh', ['-c', 'echo first; read l; echo "adopted $l"; echo e >&2'], { stdio: 'pipe' });
    // The daemon's end has read "first" already (a socket reads as soon as it is made).
    await waitUntil(() => job.stdout.readableLength > 0);
    const p = place();
    const link = await adoptStdio(p, { stdin: job.stdin, stdout: job.stdout, stderr: job.stderr });
    const out = text(link.stdio.stdout);
    link.stdio.stdin.write('yes\n');
    assert.equal(await out.until(/adopted yes\n/), 'first\nadopted yes\n');
    assert.equal(await link.exited, null, 'an adopted job has no exit status from its holder');
    assert.equal(await readFile(p.log, 'utf8'), 'first\nadopted yes\ne\n');
  });

  it('ends with an adopted job whose output stays open elsewhere (as a FIFO opened read-write does)', async () => {
    // The background sleep keeps stdout open after the job itself has exited.
    const job = spawn('sh', ['-c', 'sleep 5 & read l; echo bye'], { stdio: 'pipe' });
    const exit = new Promise((r) => job.once('exit', r));
    const p = place();
    const link = await adoptStdio(p, { stdin: job.stdin, stdout: job.stdout, stderr: job.stderr }, job.pid);
    link.stdio.stdin.write('go\n');
    await exit;
    const started = Date.now();
    assert.equal(await link.exited, null);
    assert.ok(Date.now() - started < 4000, 'the holder did not wait for the background sleep');
    assert.ok(await gone(holderSocket(dir, p.jid)));
  });

  it("refuses a sockets' folder that others may enter", async () => {
    const open = join(root, 'open');
    await mkdir(open, { mode: 0o755 });
    await chmod(open, 0o755);
    await assert.rejects(
      startHeldRun({ ...place(), dir: open }, sh('true')),
      /must be a directory of UID \d+ with mode 0700; found mode 755/,
    );
  });
});
