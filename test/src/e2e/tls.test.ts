/**
 * A TCP daemon serving TLS (`daemon start --tls-cert --tls-key`) and its clients: the CLI's
 * unary calls and its grpc-js streams (attach), and a source daemon migrating a job to it. The
 * certificates are a throwaway CA and a server certificate for 127.0.0.1 and localhost, made
 * with openssl here (harness/tls-certs.ts).
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attachUntil } from '../harness/attach.js';
import { counterScript, counts, lastCount, waitForCount } from '../harness/counter.js';
import { runCli, TestDaemon } from '../harness/daemon.js';
import { makeCerts, type TestCerts } from '../harness/tls-certs.js';

interface JobJson {
  jid: string;
  migratedTo?: string;
  lastCheckpoint?: { path: string };
  state: { pid: number; status: string; startTicks: number };
}

const ADDRESS = '127.0.0.1:17821';
const PLAIN = '127.0.0.1:17822';
const TOKEN = 'tls-s3cret';

/** Every count is the one before plus one: nothing was lost or repeated. */
function assertNoGap(all: number[], what: string): void {
  for (let i = 1; i < all.length; i++) assert.equal(all[i], (all[i - 1] as number) + 1, `${what}: ${all.slice(Math.max(0, i - 3), i + 2)}`);
}

describe('a TCP daemon serving TLS, with its token', () => {
  let certs: TestCerts;
  let certDir: string;
  let d: TestDaemon;
  before(async () => {
    certDir = await mkdtemp('/tmp/cedana-e2e-tls-');
    certs = await makeCerts(certDir);
    await rm('/dev/shm/cedana-e2e-tls-target', { recursive: true, force: true });
    d = await TestDaemon.start(
      {
        CEDANA_PROTOCOL: 'tcp',
        CEDANA_ADDRESS: ADDRESS,
        CEDANA_AUTH_TOKEN: TOKEN,
        CEDANA_TLS_CA: certs.ca, // for the CLI calls of the harness
        CEDANA_MIGRATE_DIR: '/dev/shm/cedana-e2e-tls-target',
      },
      ['--tls-cert', certs.cert, '--tls-key', certs.key],
    );
  });
  after(async () => {
    await d?.stop();
    await rm(certDir, { recursive: true, force: true });
    await rm('/dev/shm/cedana-e2e-tls-target', { recursive: true, force: true });
  });

  const job = async (jid: string, on: TestDaemon = d) => (await on.json<JobJson[]>(['ps'])).find((j) => j.jid === jid);

  it('runs, lists, dumps and restores a job over TLS, and attaches to one (grpc-js) too', async () => {
    assert.match(d.log(), /"tls":true.*daemon listening|daemon listening.*"tls":true/, 'the daemon says it serves TLS');
    const file = join(d.dir, 'tls.count');
    await d.ok(['run', 'process', '--pid-ns', '--jid', 'tls-cr', '--', ...counterScript(file)]);
    assert.equal((await job('tls-cr'))?.state.status, 'running');
    await waitForCount(file, 3);
    await d.ok(['dump', 'job', 'tls-cr']);
    const path = (await job('tls-cr'))?.lastCheckpoint?.path as string;
    const atDump = await lastCount(file);
    await d.ok(['restore', 'process', '--path', path, '--jid', 'tls-back']);
    assert.equal((await job('tls-back'))?.state.status, 'running');
    await waitFor(file, atDump + 3);
    await d.ok(['job', 'kill', 'tls-back']);

    await d.ok([
      'run',
      'process',
      '--jid',
      'tls-att',
      '--attachable',
      '--',
      'sh',
      '-c',
      'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done',
    ]);
    const seen = await attachUntil(d, 'tls-att', /tick 3/);
    assert.match(seen.out, /tick 3/, 'the attach stream came over TLS');
    await d.ok(['job', 'kill', 'tls-att']);
  });

  it('`daemon check` shows the certificate it serves, and warns that it expires soon', async () => {
    const r = await d.cli(['daemon', 'check', '--json']);
    const tls = (
      JSON.parse(r.stdout) as { components: { name: string; data: Record<string, string>; warnings: { message: string }[] }[] }
    ).components.find((c) => c.name === 'tls');
    assert.equal(tls?.data.serving, 'yes');
    assert.match(tls?.data.names ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(tls?.data.cert, certs.cert);
    // The test certificate is good for 2 days.
    assert.match(tls?.warnings[0]?.message ?? '', /expires within [12] day/);
  });

  it('still requires the token over TLS', async () => {
    const r = await d.cli(['ps'], { env: { CEDANA_AUTH_TOKEN: '' } });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_UNAUTHENTICATED/);
  });

  it('reaches it by a name its certificate lists (localhost) as well as by its IP', async () => {
    const r = await d.cli(['ps'], { env: { CEDANA_ADDRESS: 'localhost:17821' } });
    assert.equal(r.code, 0, r.stderr);
  });

  it('refuses a certificate that the given CA, or the system CAs, do not vouch for, naming what it trusted', async () => {
    const r = await d.cli(['ps'], { env: { CEDANA_TLS_CA: certs.otherCa } });
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_TLS_UNTRUSTED/);
    assert.ok(r.stderr.includes(certs.otherCa), `the error names the CA file it trusted: ${r.stderr}`);
    assert.match(r.stderr, /--tls-ca FILE/, 'and says how to pass the right one');
    const sys = await d.cli(['ps', '--tls'], { env: { CEDANA_TLS_CA: '' } });
    assert.equal(sys.code, 3, sys.stdout);
    assert.match(sys.stderr, /CEDANA_ERR_TLS_UNTRUSTED.*system's CAs/s);
  });

  it('refuses a certificate for another name than the one expected', async () => {
    const r = await d.cli(['ps', '--tls-server-name', 'elsewhere.example']);
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_TLS_HOSTNAME/);
    assert.match(r.stderr, /elsewhere\.example/);
    assert.match(r.stderr, /--tls-server-name/);
  });

  it('tells a plain client that the daemon speaks TLS, and a TLS client that a plain daemon does not', async () => {
    const r = await d.cli(['ps'], { env: { CEDANA_TLS_CA: '' } });
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_TLS_MISMATCH/);
    assert.match(r.stderr, /speaks TLS/);
    assert.match(r.stderr, /--tls/);

    const plain = await TestDaemon.start({ CEDANA_PROTOCOL: 'tcp', CEDANA_ADDRESS: PLAIN, CEDANA_AUTH_TOKEN: TOKEN });
    try {
      const t = await plain.cli(['ps', '--tls-ca', certs.ca]);
      assert.equal(t.code, 3, t.stdout);
      assert.match(t.stderr, /CEDANA_ERR_TLS_MISMATCH/);
      assert.match(t.stderr, /does not speak TLS/);
    } finally {
      await plain.stop();
    }
  });

  it('migrates a job to it over TLS; a source that does not trust it is refused before anything freezes', async () => {
    const src = await TestDaemon.start({ CEDANA_MIGRATE_DIR: '/dev/shm/cedana-e2e-tls-src' }, ['--tls-ca', certs.ca]);
    const plainSrc = await TestDaemon.start({ CEDANA_MIGRATE_DIR: '/dev/shm/cedana-e2e-tls-src2' });
    try {
      // A source daemon without tls.ca dials plain, and is told the target speaks TLS.
      const file0 = join(plainSrc.dir, 'refused.count');
      await plainSrc.ok(['run', 'process', '--pid-ns', '--jid', 'refused', '--', ...counterScript(file0)]);
      const before = await job('refused', plainSrc);
      const r = await plainSrc.cli(['migrate', 'job', 'refused', '--to', ADDRESS, '--token', TOKEN]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, /CEDANA_ERR_TLS_MISMATCH/);
      assert.match(r.stderr, /tls\.ca/, 'the fix names the source daemon setting');
      const now = await job('refused', plainSrc);
      assert.equal(now?.state.status, 'running');
      assert.equal(now?.state.startTicks, before?.state.startTicks, 'never frozen: the same process');
      assert.deepEqual(await plainSrc.json<unknown[]>(['checkpoints']), [], 'no dump was made');
      assert.equal(await job('refused'), undefined, 'the target made no job');

      // A source daemon whose tls.ca did not sign the target's certificate is refused, and says which CA it trusted.
      plainSrc.env.CEDANA_TLS_CA = certs.otherCa; // the daemon's own setting: the CLI on its unix socket needs none
      await plainSrc.restart();
      const u = await plainSrc.cli(['migrate', 'job', 'refused', '--to', ADDRESS, '--token', TOKEN]);
      assert.notEqual(u.code, 0, u.stdout);
      assert.match(u.stderr, /CEDANA_ERR_TLS_UNTRUSTED/);
      assert.ok(u.stderr.includes(certs.otherCa), u.stderr);
      assert.match(u.stderr, /nothing was frozen/);
      assert.equal((await job('refused', plainSrc))?.state.startTicks, before?.state.startTicks, 'still never frozen');

      // The source with tls.ca migrates over TLS.
      const file = join(src.dir, 'moved.count');
      await src.ok(['run', 'process', '--pid-ns', '--jid', 'moved', '--', ...counterScript(file)]);
      await waitForCount(file, 5);
      const moved = await src.cli(['migrate', 'job', 'moved', '--to', ADDRESS, '--token', TOKEN]);
      assert.equal(moved.code, 0, moved.stderr);
      assert.match(moved.stdout, /migrated job moved to .*: job moved \(PID \d+\) runs there/);
      assert.doesNotMatch(moved.stderr, /went over gRPC/, 'the images went over the data connection, over TLS');
      await waitFor(file, (await lastCount(file)) + 5);
      assertNoGap(await counts(file), 'the counter');
      assert.equal((await job('moved', src))?.state.status, 'migrated');
      assert.equal((await job('moved'))?.state.status, 'running');
      assert.deepEqual(await readdir('/dev/shm/cedana-e2e-tls-src'), [], 'nothing staged stays on the source');
      await d.ok(['job', 'kill', 'moved']);
    } finally {
      await src.stop();
      await plainSrc.stop();
      for (const s of ['src', 'src2']) await rm(`/dev/shm/cedana-e2e-tls-${s}`, { recursive: true, force: true });
    }
  });
});

describe('daemon start with TLS files it cannot use', () => {
  let dir: string;
  let certs: TestCerts;
  before(async () => {
    dir = await mkdtemp('/tmp/cedana-e2e-tls-');
    certs = await makeCerts(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const start = (args: string[]) =>
    runCli(
      ['daemon', 'start', ...args],
      {
        ...process.env,
        HOME: dir,
        CEDANA_PROTOCOL: 'tcp',
        CEDANA_ADDRESS: '127.0.0.1:17823',
        CEDANA_AUTH_TOKEN: TOKEN,
        CEDANA_DB_PATH: join(dir, 'db'),
        CEDANA_LOG_DIR: join(dir, 'logs'),
      },
      { timeoutMs: 20_000 },
    );

  it('refuses a key file that others can read, as ssh does, and listens nowhere', async () => {
    await chmod(certs.key, 0o644);
    try {
      const r = await start(['--tls-cert', certs.cert, '--tls-key', certs.key]);
      assert.equal(r.code, 1, `exits at once: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /CEDANA_ERR_TLS_FILE/);
      assert.match(r.stderr, /readable by others.*0644/);
      assert.ok(r.stderr.includes(`chmod 600 ${certs.key}`), r.stderr);
    } finally {
      await chmod(certs.key, 0o600);
    }
    const ps = await runCli(['ps', '--protocol', 'tcp', '--address', '127.0.0.1:17823', '--tls-ca', certs.ca], {
      ...process.env,
      HOME: dir,
    });
    assert.equal(ps.code, 3, 'nothing answers on the port');
  });

  it('refuses a missing certificate file, and a certificate without its key', async () => {
    const missing = await start(['--tls-cert', join(dir, 'nope.pem'), '--tls-key', certs.key]);
    assert.equal(missing.code, 1, missing.stdout);
    assert.match(missing.stderr, /CEDANA_ERR_TLS_FILE.*nope\.pem.*no such file/s);
    const alone = await start(['--tls-cert', certs.cert]);
    assert.equal(alone.code, 1, alone.stdout);
    assert.match(alone.stderr, /CEDANA_ERR_TLS_FILE.*tls\.key is empty/s);
  });
});

/** Waits for the counter in `file` to reach `n`. */
function waitFor(file: string, n: number): Promise<number> {
  return waitForCount(file, n, 20_000);
}
