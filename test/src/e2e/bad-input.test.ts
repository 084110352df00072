/** Bad input gets a clear error that says what to do next, and nothing is lost. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { counterScript, lastCount, waitForCount } from '../harness/counter.js';
import { runCli, sleep, TestDaemon, waitFor } from '../harness/daemon.js';

interface JobJson {
  jid: string;
  state: { pid: number; status: string };
  lastCheckpoint?: { path: string };
}

describe('bad input', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  const status = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid)?.state.status;
  const runCounter = async (jid: string) => {
    const file = join(d.dir, `${jid}.count`);
    await d.ok(['run', 'process', '--jid', jid, '--', ...counterScript(file)]);
    await waitForCount(file, 2);
    return file;
  };
  /** The job keeps counting: it was left running. */
  const stillCounting = async (file: string) => waitForCount(file, await lastCount(file), 5000);

  for (const args of [
    ['dump', 'job', 'nope'],
    ['restore', 'job', 'nope'],
    ['job', 'kill', 'nope'],
    ['job', 'inspect', 'nope'],
  ]) {
    it(`names the unknown JID in \`cedana ${args.join(' ')}\``, async () => {
      const r = await d.cli(args);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /CEDANA_ERR_JOB_NOT_FOUND/);
      assert.match(r.stderr, /"nope"/);
      assert.match(r.stderr, /cedana ps/, 'says what to do next');
    });
  }

  it('refuses to dump a PID that does not exist', async () => {
    const r = await d.cli(['dump', 'process', '999999']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PROCESS_NOT_FOUND/);
  });

  it('refuses to dump a job that already exited', async () => {
    await d.ok(['run', 'process', '--jid', 'short', '--', 'true']);
    await waitFor('short exited', async () => ((await status('short')) === 'exited' ? true : undefined));
    const r = await d.cli(['dump', 'job', 'short']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_JOB_NOT_RUNNING/);
  });

  it('refuses a checkpoint folder that cannot be written, and the job goes on', async () => {
    const file = await runCounter('nodir');
    const notADir = join(d.dir, 'a-file');
    await writeFile(notADir, '');
    const r = await d.cli(['dump', 'job', 'nodir', '--dir', join(notADir, 'sub')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_CHECKPOINT_DIR/);
    assert.equal(await status('nodir'), 'running');
    await stillCounting(file);
  });

  it('on a full disk, removes the partial checkpoint and leaves the job running', async () => {
    const small = join(d.dir, 'small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]);
    try {
      const file = await runCounter('full');
      const r = await d.cli(['dump', 'job', 'full', '--dir', small]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /CEDANA_ERR_NO_SPACE/);
      assert.deepEqual(await readdir(small), [], 'no partial files are left');
      assert.equal(await status('full'), 'running');
      await stillCounting(file);
      assert.equal(
        (await d.json<{ jid: string }[]>(['checkpoints'])).filter((c) => c.jid === 'full').length,
        0,
        'no checkpoint is recorded',
      );
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('reports a CRIU failure with the tail of its log, and the job goes on', async () => {
    // A unix stream connection to a peer outside the job is something CRIU refuses to dump.
    const sock = join(d.dir, 'peer.sock');
    const server = createServer(() => {}).listen(sock);
    try {
      const file = join(d.dir, 'criufail.count');
      const script = `const s = require('net').connect(${JSON.stringify(sock)}); let i = 0; setInterval(() => require('fs').appendFileSync(${JSON.stringify(file)}, ++i + '\\n'), 100);`;
      await d.ok(['run', 'process', '--jid', 'criufail', '--', process.execPath, '-e', script]);
      await waitForCount(file, 2);
      const r = await d.cli(['dump', 'job', 'criufail']);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /CEDANA_ERR_CRIU_DUMP/);
      assert.match(r.stderr, /Error \(criu\//, 'lines of the CRIU log');
      // The partial checkpoint is gone, but the log the error names was kept in log.dir (issue 13).
      const named = /\(full log: (.+)\)/.exec(r.stderr)?.[1];
      assert.ok(named, `the error names the full log:\n${r.stderr}`);
      assert.ok(named.startsWith(join(d.dir, 'logs', 'failed-dumps')), `kept in the daemon's log folder: ${named}`);
      assert.match(await readFile(named, 'utf8'), /Dumping FAILED/, "it holds CRIU's whole dump log");
      assert.equal((await stat(named)).mode & 0o777, 0o600);
      assert.equal((await stat(join(d.dir, 'logs'))).mode & 0o777, 0o700);
      assert.equal(await status('criufail'), 'running');
      await stillCounting(file);
      await d.ok(['job', 'kill', 'criufail']);
    } finally {
      server.close();
    }
  });

  it('refuses to restore while the PID is taken, and the checkpoint stays intact', async () => {
    const file = await runCounter('pidtaken');
    await d.ok(['dump', 'job', 'pidtaken', '--leave-running']);
    const job = (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === 'pidtaken') as JobJson;
    const path = job.lastCheckpoint?.path as string;
    const r = await d.cli(['restore', 'process', '--path', path]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_PID_TAKEN/);
    assert.match(r.stderr, new RegExp(String(job.state.pid)));
    // The same checkpoint restores once the PID is free.
    await d.ok(['job', 'kill', 'pidtaken']);
    await waitFor('pidtaken exited', async () => ((await status('pidtaken')) === 'exited' ? true : undefined));
    const atKill = await lastCount(file);
    await d.ok(['restore', 'job', 'pidtaken']);
    await waitForCount(file, atKill + 1);
    await d.ok(['job', 'kill', 'pidtaken']);
  });

  it('never runs two dumps of one job at once', async () => {
    // 256 MiB of memory makes the gzip dump last long enough to overlap.
    await d.ok([
      'run',
      'process',
      '--jid',
      'big',
      '--',
      process.execPath,
      '-e',
      'const b = Buffer.alloc(256 << 20, 7); setInterval(() => b[0]++, 100);',
    ]);
    await sleep(1000);
    const [a, b] = await Promise.all([
      d.cli(['dump', 'job', 'big', '--leave-running', '--compression', 'gzip']),
      sleep(150).then(() => d.cli(['dump', 'job', 'big', '--leave-running', '--compression', 'gzip'])),
    ]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 1], `one dump succeeds, one is refused: ${a.stderr} ${b.stderr}`);
    assert.match(a.stderr + b.stderr, /CEDANA_ERR_JOB_BUSY/);
    await d.ok(['job', 'kill', 'big']);
  });

  it('refuses to start a job whose JID is taken', async () => {
    await runCounter('dup');
    const r = await d.cli(['run', 'process', '--jid', 'dup', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_JOB_EXISTS/);
    await d.ok(['job', 'kill', 'dup']);
  });

  it('says CRIU is missing when criu.binary_path points nowhere, and the job goes on', async () => {
    const other = await TestDaemon.start({ CEDANA_CRIU_BINARY_PATH: '/nonexistent/criu' });
    try {
      const file = join(other.dir, 'c.count');
      await other.ok(['run', 'process', '--jid', 'c', '--', ...counterScript(file)]);
      await waitForCount(file, 2);
      const r = await other.cli(['dump', 'job', 'c']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /CEDANA_ERR_CRIU_NOT_FOUND/);
      assert.match(r.stderr, /install-criu|binary_path/);
      await waitForCount(file, await lastCount(file));
      const check = await other.cli(['daemon', 'check']);
      assert.equal(check.code, 1, 'daemon check fails');
      assert.match(check.stdout + check.stderr, /criu/i);
    } finally {
      await other.stop();
    }
  });
});

describe('bad config', () => {
  it('names the file and the problem when the config file does not parse', async () => {
    const dir = '/tmp';
    const path = join(dir, `cedana-bad-config-${process.pid}.json`);
    await writeFile(path, '{ "log_level": "info", ');
    const r = await runCli(['--config', path, 'ps'], { ...process.env });
    await rm(path, { force: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CEDANA_ERR_CONFIG_PARSE/);
    assert.match(r.stderr, new RegExp(path));
  });

  it('names the key when a value is wrong', async () => {
    const r = await runCli(['ps'], { ...process.env, CEDANA_CHECKPOINT_COMPRESSION: 'rar' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /checkpoint\.compression/);
    assert.match(r.stderr, /CEDANA_ERR_CONFIG_VALUE/);
  });

  it('says the daemon is unreachable, with exit code 3', async () => {
    const r = await runCli(['ps'], { ...process.env, CEDANA_ADDRESS: '/tmp/no-such-cedana.sock' });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /CEDANA_ERR_DAEMON_UNREACHABLE/);
    assert.match(r.stderr, /cedana daemon start/);
  });
});
