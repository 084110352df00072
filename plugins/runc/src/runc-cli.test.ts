import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globalArgs, locateRunc, runcErrors } from './runc-cli.js';
import { fakeProgram } from './testing/fake-runc.js';

describe('runc-cli', () => {
  it('finds runc on PATH, and says how to install it when it is not there', async () => {
    const fake = await fakeProgram('runc', 'exit 0');
    assert.equal(await locateRunc(`/nonexistent:${fake.dir}`), fake.path);
    await assert.rejects(locateRunc('/nonexistent'), { code: 'CEDANA_ERR_RUNC_NOT_FOUND', hint: /apt-get install runc/ });
  });

  it('passes --root only when one is given, and asks for a json log', () => {
    assert.deepEqual(globalArgs(''), []);
    assert.deepEqual(globalArgs('/r', '/l'), ['--root', '/r', '--log', '/l', '--log-format', 'json']);
  });

  it('takes the error messages from runc’s json log, split into lines', () => {
    const log = [
      '{"level":"warning","msg":"Failed to remove cgroup (will retry)","time":"t"}',
      '{"level":"error","msg":"criu failed: type NOTIFY errno 0\\nlog file: /x/restore.log","time":"t"}',
      'not json',
    ].join('\n');
    assert.deepEqual(runcErrors(log, 'ignored'), ['criu failed: type NOTIFY errno 0', 'log file: /x/restore.log']);
  });

  it('falls back to stderr, without logrus’ prefix', () => {
    const stderr = 'time="2026-01-01T00:00:00Z" level=error msg="container \\"c1\\" does not exist"\nplain line\n';
    assert.deepEqual(runcErrors('', stderr), ['container "c1" does not exist', 'plain line']);
  });
});
