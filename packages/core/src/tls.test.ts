import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as tlsServer } from 'node:tls';
import { type ConfigKey, loadConfig } from './config.js';
import { clientTlsOf, hostPortOf, serverTlsOf, speaksTls, tlsHandshake } from './tls.js';

const dir = mkdtempSync(join(tmpdir(), 'cedana-tls-test-'));
const empty = join(dir, 'config.json');
writeFileSync(empty, '{}');
const configOf = (overrides: Partial<Record<ConfigKey, unknown>>) =>
  loadConfig({ path: empty, env: {}, overrides: { protocol: 'tcp', address: '127.0.0.1:1', ...overrides } });
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

// A CA, a server certificate it signed for 127.0.0.1 and localhost, and a second CA that signed nothing.
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
openssl('req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=unit-ca');
openssl('req', '-x509', ...EC, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=other-ca');
openssl('req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=unit');
writeFileSync(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
openssl(
  'x509',
  '-req',
  '-in',
  'server.csr',
  '-CA',
  'ca.pem',
  '-CAkey',
  'ca.key',
  '-CAcreateserial',
  '-out',
  'server.pem',
  '-days',
  '2',
  '-extfile',
  'ext',
);
for (const k of ['ca.key', 'other.key', 'server.key']) chmodSync(join(dir, k), 0o600);
const f = (name: string) => join(dir, name);

after(() => rmSync(dir, { recursive: true, force: true }));

describe('serverTlsOf', () => {
  it('is undefined on a unix socket, and on TCP without tls.cert and tls.key', () => {
    assert.equal(serverTlsOf(configOf({ protocol: 'unix', 'tls.cert': f('server.pem'), 'tls.key': f('server.key') })), undefined);
    assert.equal(serverTlsOf(configOf({})), undefined);
  });

  it('reads a certificate and its private key', () => {
    const tls = serverTlsOf(configOf({ 'tls.cert': f('server.pem'), 'tls.key': f('server.key') }));
    assert.match(tls?.cert.toString() ?? '', /BEGIN CERTIFICATE/);
    assert.match(tls?.key.toString() ?? '', /PRIVATE KEY/);
  });

  it('refuses a key that group or others can read, naming its mode and the chmod', () => {
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(f('server.key'), mode);
      assert.throws(
        () => serverTlsOf(configOf({ 'tls.cert': f('server.pem'), 'tls.key': f('server.key') })),
        (e: Error & { code?: string; hint?: string }) =>
          e.code === 'CEDANA_ERR_TLS_FILE' &&
          e.message.includes(`0${mode.toString(8)}`) &&
          e.hint?.includes(`chmod 600 ${f('server.key')}`) === true,
      );
    }
    chmodSync(f('server.key'), 0o400);
    assert.ok(serverTlsOf(configOf({ 'tls.cert': f('server.pem'), 'tls.key': f('server.key') })), 'a 0400 key is private');
    chmodSync(f('server.key'), 0o600);
  });

  it('refuses half a pair, a missing file, a file that is no PEM, and a key of another certificate', () => {
    const refused = (cert: string, key: string, message: RegExp) =>
      assert.throws(
        () => serverTlsOf(configOf({ 'tls.cert': cert, 'tls.key': key })),
        (e: Error & { code?: string }) => e.code === 'CEDANA_ERR_TLS_FILE' && message.test(e.message),
      );
    refused(f('server.pem'), '', /tls\.key is empty/);
    refused('', f('server.key'), /tls\.cert is empty/);
    refused(f('nope.pem'), f('server.key'), /nope\.pem \(tls\.cert\): there is no such file/);
    refused(f('ext'), f('server.key'), /not a PEM file holding a CERTIFICATE/);
    refused(f('server.pem'), f('other.key'), /cannot serve TLS with/);
  });
});

describe('clientTlsOf', () => {
  it('is undefined without tls.enabled or tls.ca; tls.ca turns TLS on; tls.enabled alone trusts the system CAs', () => {
    assert.equal(clientTlsOf(configOf({})), undefined);
    const withCa = clientTlsOf(configOf({ 'tls.ca': f('ca.pem') }));
    assert.match(withCa?.ca?.toString() ?? '', /BEGIN CERTIFICATE/);
    assert.equal(withCa?.caFile, f('ca.pem'));
    assert.deepEqual(clientTlsOf(configOf({ 'tls.enabled': true, 'tls.server_name': 'x.example' })), {
      ca: undefined,
      caFile: '',
      serverName: 'x.example',
    });
  });

  it('refuses a tls.ca it cannot read', () => {
    assert.throws(() => clientTlsOf(configOf({ 'tls.ca': f('missing.pem') })), { code: 'CEDANA_ERR_TLS_FILE' });
  });
});

it('hostPortOf splits host:port and [v6]:port', () => {
  assert.deepEqual(hostPortOf('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(hostPortOf('daemon.example:1'), { host: 'daemon.example', port: 1 });
  assert.deepEqual(hostPortOf('[::1]:443'), { host: '::1', port: 443 });
});

describe('a handshake with a real TLS server', () => {
  let tlsPort = 0;
  let plainPort = 0;
  const servers: { close(): void }[] = [];
  before(async () => {
    const key = f('server.key');
    const s = tlsServer({ ...serverTlsOf(configOf({ 'tls.cert': f('server.pem'), 'tls.key': key })), ALPNProtocols: ['h2'] }, (c) =>
      c.end(),
    );
    // A plain server that answers anything with HTTP/1.1, as a non-TLS peer would.
    const p = netServer((c) => c.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    for (const srv of [s, p]) await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    tlsPort = (s.address() as { port: number }).port;
    plainPort = (p.address() as { port: number }).port;
    servers.push(s, p);
  });
  after(() => {
    for (const s of servers) s.close();
  });

  const client = (o: Partial<Record<ConfigKey, unknown>>) =>
    clientTlsOf(configOf({ 'tls.enabled': true, ...o })) as NonNullable<ReturnType<typeof clientTlsOf>>;
  const fails = (address: string, tls: ReturnType<typeof client>, code: string, message: RegExp) =>
    assert.rejects(tlsHandshake(address, tls, 'cli', 5000), (e: Error & { code?: string }) => e.code === code && message.test(e.message));

  it('succeeds with the CA, by IP or by name', async () => {
    await tlsHandshake(`127.0.0.1:${tlsPort}`, client({ 'tls.ca': f('ca.pem') }), 'cli', 5000);
    await tlsHandshake(`localhost:${tlsPort}`, client({ 'tls.ca': f('ca.pem') }), 'cli', 5000);
  });

  it('refuses an untrusted certificate, naming what it trusted', async () => {
    await fails(`127.0.0.1:${tlsPort}`, client({ 'tls.ca': f('other.pem') }), 'CEDANA_ERR_TLS_UNTRUSTED', /other\.pem \(tls\.ca\)/);
    await fails(`127.0.0.1:${tlsPort}`, client({}), 'CEDANA_ERR_TLS_UNTRUSTED', /the system's CAs/);
  });

  it('refuses a certificate for another name', async () => {
    await fails(
      `127.0.0.1:${tlsPort}`,
      client({ 'tls.ca': f('ca.pem'), 'tls.server_name': 'other.example' }),
      'CEDANA_ERR_TLS_HOSTNAME',
      /other\.example/,
    );
  });

  it('says that a plain server does not speak TLS', async () => {
    await fails(`127.0.0.1:${plainPort}`, client({ 'tls.ca': f('ca.pem') }), 'CEDANA_ERR_TLS_MISMATCH', /does not speak TLS/);
  });

  it('speaksTls tells the TLS server from the plain one', async () => {
    assert.equal(await speaksTls(`127.0.0.1:${tlsPort}`, 5000), true);
    assert.equal(await speaksTls(`127.0.0.1:${plainPort}`, 5000), false);
  });
});
