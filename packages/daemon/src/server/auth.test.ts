import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, wire } from '@cedana/core';
import { Metadata } from '@grpc/grpc-js';
import { checkAuth, refuseOpenTcp, tokenMatches, warnIfPlainTcp } from './auth.js';

/** The config of these CEDANA_* variables alone: an empty file, no machine config. */
const empty = join(mkdtempSync(join(tmpdir(), 'cedana-auth-')), 'config.json');
writeFileSync(empty, '{}');
const config = (env: Record<string, string>) => loadConfig({ path: empty, env });
const withToken = (value?: string) => {
  const md = new Metadata();
  if (typeof value === 'string') md.set(wire.AUTH_KEY, value);
  return md;
};

describe('TCP auth', () => {
  it('compares tokens of any length without throwing, equal only when equal', () => {
    assert.equal(tokenMatches('Bearer s3cret', 'Bearer s3cret'), true);
    for (const got of ['', 'Bearer s3cre', 'Bearer s3cret!', 'Bearer S3CRET', 'x'.repeat(10_000)]) {
      assert.equal(tokenMatches(got, 'Bearer s3cret'), false, got);
    }
  });

  it('refuses a call with a missing, wrong or differently long token, and lets the right one through', () => {
    const c = config({ CEDANA_PROTOCOL: 'tcp', CEDANA_ADDRESS: '127.0.0.1:1', CEDANA_AUTH_TOKEN: 's3cret' });
    assert.doesNotThrow(() => checkAuth(withToken('Bearer s3cret'), c));
    for (const got of [undefined, 'Bearer', 'Bearer s3cre', 'Bearer s3cret2', 's3cret']) {
      assert.throws(() => checkAuth(withToken(got), c), { code: 'CEDANA_ERR_UNAUTHENTICATED' }, String(got));
    }
  });

  it('refuses TCP without a token unless insecure is set; unix needs none', () => {
    const tcp = { CEDANA_PROTOCOL: 'tcp', CEDANA_ADDRESS: '127.0.0.1:1' };
    assert.throws(() => refuseOpenTcp(config(tcp)), { code: 'CEDANA_ERR_TCP_NO_TOKEN', message: /127\.0\.0\.1:1/ });
    assert.doesNotThrow(() => refuseOpenTcp(config({ ...tcp, CEDANA_INSECURE: 'true' })));
    assert.doesNotThrow(() => refuseOpenTcp(config({ ...tcp, CEDANA_AUTH_TOKEN: 't' })));
    assert.doesNotThrow(() => refuseOpenTcp(config({})));
  });

  it('warns of plain TCP on an address beyond loopback, not on loopback, TLS or a unix socket', () => {
    const warned = (env: Record<string, string>, tls?: { cert: Buffer; key: Buffer }) => {
      const lines: string[] = [];
      const log = { warn: (_o: unknown, msg: string) => lines.push(msg) } as unknown as Parameters<typeof warnIfPlainTcp>[2];
      warnIfPlainTcp(config(env), tls, log);
      return lines;
    };
    const tcp = (address: string) => ({ CEDANA_PROTOCOL: 'tcp', CEDANA_ADDRESS: address, CEDANA_AUTH_TOKEN: 't' });
    assert.match(warned(tcp('0.0.0.0:8080'))[0] ?? '', /without TLS.*tls\.cert/);
    assert.equal(warned(tcp('10.1.2.3:8080')).length, 1);
    for (const address of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080']) assert.deepEqual(warned(tcp(address)), [], address);
    assert.deepEqual(warned(tcp('0.0.0.0:8080'), { cert: Buffer.from(''), key: Buffer.from('') }), []);
    assert.deepEqual(warned({}), []);
  });
});
