/** The daemon on TCP with a bearer token. */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { TestDaemon } from '../harness/daemon.js';

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

it('refuses a missing or wrong token with UNAUTHENTICATED', async () => {
  for (const token of ['', 'wrong']) {
    const r = await d.cli(['ps'], { env: { CEDANA_AUTH_TOKEN: token } });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_UNAUTHENTICATED/);
  }
});
