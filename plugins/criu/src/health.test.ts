import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { criuHealthCheck } from './health.js';
import { recordingLogger, testConfig } from './testing/context.js';
import { fakeCriu, removeFakeCrius } from './testing/fake-criu.js';

after(removeFakeCrius);

const check = (overrides: Parameters<typeof testConfig>[0] = {}) =>
  criuHealthCheck({ config: testConfig(overrides), log: recordingLogger(), signal: new AbortController().signal });

test('passes on this machine and reports binary and version', async () => {
  const result = await check();
  assert.equal(result.name, 'criu');
  assert.deepEqual(result.errors, []);
  assert.match(result.data.binary ?? '', /criu$/);
  assert.match(result.data.version ?? '', /^\d+\.\d+/);
});

test('reports a missing binary with the install fix', async () => {
  const result = await check({ 'criu.binary_path': '/nonexistent/criu' });
  assert.equal(result.errors.length, 1);
  assert.match(result.errors[0]?.fix ?? '', /install-criu\.sh/);
});

test('reports a CRIU older than 4.2 and explains the kernel trap', async () => {
  const result = await check({ 'criu.binary_path': await fakeCriu('3.17.1') });
  assert.equal(result.data.version, '3.17.1');
  assert.match(result.errors[0]?.message ?? '', /vDSO/);
  assert.match(result.errors[0]?.fix ?? '', /install-criu\.sh/);
});

test('reports a failing `criu check` with its message', async () => {
  const path = await fakeCriu('4.2.1', 1, 'Error (criu/cr-check.c:1): seccomp is not supported');
  const result = await check({ 'criu.binary_path': path });
  assert.match(result.errors[0]?.message ?? '', /check` failed \(exit 1\): seccomp is not supported/);
});
