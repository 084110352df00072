import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { isCedanaError } from '@cedana/plugin-sdk';
import { discoverCriu, locateCriu } from './discover.js';
import { testConfig } from './testing/context.js';
import { fakeCriu, removeFakeCrius } from './testing/fake-criu.js';

after(removeFakeCrius);

test('finds the criu of this machine on PATH, at 4.2 or newer', async () => {
  const criu = await discoverCriu(testConfig());
  assert.match(criu.binary, /^\/.*criu$/);
  assert.ok(criu.version.major > 4 || (criu.version.major === 4 && criu.version.minor >= 2), criu.version.text);
});

test('uses criu.binary_path when set', async () => {
  const path = await fakeCriu('4.3.0');
  const criu = await discoverCriu(testConfig({ 'criu.binary_path': path }));
  assert.deepEqual(criu, { binary: path, version: { major: 4, minor: 3, patch: 0, text: '4.3.0' } });
});

test('refuses a CRIU older than 4.2 with CEDANA_ERR_CRIU_TOO_OLD', async () => {
  const path = await fakeCriu('4.1.1');
  await assert.rejects(discoverCriu(testConfig({ 'criu.binary_path': path })), (err) => {
    assert.ok(isCedanaError(err));
    assert.equal(err.code, 'CEDANA_ERR_CRIU_TOO_OLD');
    assert.match(err.message, /4\.1\.1.*expected 4\.2 or newer/);
    return true;
  });
});

test('says CEDANA_ERR_CRIU_NOT_FOUND for a missing binary, on PATH or configured', async () => {
  await assert.rejects(locateCriu(testConfig(), { PATH: '/nonexistent' }), { code: 'CEDANA_ERR_CRIU_NOT_FOUND' });
  await assert.rejects(discoverCriu(testConfig({ 'criu.binary_path': '/nonexistent/criu' })), { code: 'CEDANA_ERR_CRIU_NOT_FOUND' });
});
