import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type Logger, loadConfig } from '@cedana/core';
import { runcHealthCheck } from './health.js';
import { fakeProgram } from './testing/fake-runc.js';

const log: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => log };
const ctx = () => ({ config: loadConfig({ env: {} }), log, signal: new AbortController().signal });

describe('runc health check', () => {
  let path: string | undefined;
  beforeEach(() => {
    path = process.env.PATH;
  });
  afterEach(() => {
    process.env.PATH = path;
  });

  it('reports runc, the criu runc will run and their versions when all is there', async () => {
    const dir = (await fakeProgram('runc', 'echo "runc version 1.1.5+ds1"; echo "commit: x"')).dir;
    await fakeProgram('criu', 'echo "Version: 4.2.1"', dir);
    await fakeProgram('iptables-restore', 'exit 0', dir);
    await fakeProgram('perl', 'exit 0', dir);
    process.env.PATH = dir;
    const r = await runcHealthCheck(ctx());
    assert.deepEqual(r.errors, []);
    assert.equal(r.data.version, '1.1.5+ds1');
    assert.equal(r.data.criu, `${dir}/criu 4.2.1`);
  });

  it('says what is missing or too old, each with its fix', async () => {
    const dir = (await fakeProgram('criu', 'echo "Version: 4.1"')).dir;
    process.env.PATH = dir;
    const r = await runcHealthCheck(ctx());
    const messages = r.errors.map((e) => `${e.message} => ${e.fix}`);
    assert.equal(messages.length, 4, messages.join('\n'));
    assert.match(messages[0] ?? '', /runc is not on the daemon's PATH.*=> apt-get install runc/);
    assert.match(messages[1] ?? '', /is 4\.1, older than 4\.2.*=> install CRIU >= 4\.2/);
    assert.match(messages[2] ?? '', /iptables-restore.*Locking network failed.*=> apt-get install iptables/);
    assert.match(messages[3] ?? '', /perl.*=> apt-get install perl-base/);
  });
});
