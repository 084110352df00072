/** The daemon on TCP: a bearer token, or an explicit --insecure that warns. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, TestDaemon } from '../harness/daemon.js';

describe('a TCP daemon with a token', () => {
  const ADDRESS = '127.0.0.1:17802';
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ CEDANA_PROTOCOL: 'tcp', CEDANA_ADDRESS: ADDRESS, CEDANA_AUTH_TOKEN: 's3cret' });
  });
  after(async () => {
    await d.stop();
  });

  it('serves clients that carry the token', async () => {
    await d.ok(['run', 'process', '--jid', 'tcp-auth', '--', 'sleep', '30']);
    assert.ok((await d.json<{ jid: string }[]>(['ps'])).some((j) => j.jid === 'tcp-auth'));
    await d.ok(['job', 'kill', 'tcp-auth']);
  });

  it('refuses a missing, wrong, longer or shorter token with UNAUTHENTICATED', async () => {
    for (const token of ['', 'wrong', 's3cret-and-more', 's3cre', 'S3CRET']) {
      const r = await d.cli(['ps'], { env: { CEDANA_AUTH_TOKEN: token } });
      assert.equal(r.code, 1, `${token}: ${r.stdout}`);
      assert.match(r.stderr, /CEDANA_ERR_UNAUTHENTICATED/);
    }
  });
});

describe('a TCP daemon without a token', () => {
  it('refuses to start, says why and what to do, and listens nowhere', async () => {
    const dir = await mkdtemp('/tmp/cedana-e2e-');
    try {
      const env = {
        ...process.env,
        HOME: dir,
        CEDANA_PROTOCOL: 'tcp',
        CEDANA_ADDRESS: '127.0.0.1:17803',
        CEDANA_AUTH_TOKEN: '',
        CEDANA_DB_PATH: join(dir, 'db'),
        CEDANA_LOG_DIR: join(dir, 'logs'),
      };
      // Today's daemon would serve until killed: the bound makes that a failure, not a hang.
      const r = await runCli(['daemon', 'start'], env, { timeoutMs: 20_000 });
      assert.equal(r.code, 1, `exits at once with an error: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /CEDANA_ERR_TCP_NO_TOKEN/);
      assert.match(r.stderr, /auth_token/);
      assert.match(r.stderr, /--insecure/, 'the hint names the way out');
      const ps = await runCli(['ps'], env);
      assert.equal(ps.code, 3, 'nothing answers on the port');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts with --insecure and logs a warning that says what it means', async () => {
    const d = await TestDaemon.start({ CEDANA_PROTOCOL: 'tcp', CEDANA_ADDRESS: '127.0.0.1:17804', CEDANA_AUTH_TOKEN: '' }, ['--insecure']);
    try {
      await d.ok(['ps']);
      const log = await readFile(join(d.dir, 'daemon.log'), 'utf8');
      const warning = log.split('\n').find((l) => l.includes('INSECURE'));
      assert.ok(warning, `the daemon log has the warning:\n${log.slice(0, 2000)}`);
      assert.match(warning, /"level":40/, 'logged as a warning');
      assert.match(warning, /acts as root/);
    } finally {
      await d.stop();
    }
  });
});
