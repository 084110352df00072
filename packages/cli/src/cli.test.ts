import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CedanaError } from '@cedana/core';
import { commandPath } from './cli.js';
import { cli } from './testing/fake-cli.js';

describe('exit codes', () => {
  it('is 3 when the daemon is unreachable', async () => {
    const r = await cli(['ps'], {
      connectError: new CedanaError('CEDANA_ERR_DAEMON_UNREACHABLE', 'cannot reach the daemon at unix:///x: no socket at /x'),
    });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^Error \[CEDANA_ERR_DAEMON_UNREACHABLE\]: cannot reach the daemon at unix:\/\/\/x.*\nhint: start the daemon/);
  });

  it('is 1 when the request fails, with the hint', async () => {
    const r = await cli(['kill', 'nope'], { responses: { kill: new CedanaError('CEDANA_ERR_JOB_NOT_FOUND', 'no job "nope"') } });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error [CEDANA_ERR_JOB_NOT_FOUND]: no job "nope"\nhint: list jobs with `cedana ps`\n');
  });

  it('is 2 for an unknown command, naming the help to read', async () => {
    const r = await cli(['dump', 'jb']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown argument: jb\nhint: run `cedana dump --help`/);
  });

  it('is 1 when daemon check finds an error, 0 for warnings only', async () => {
    const component = (errors: number) => ({
      name: 'criu',
      source: 'criu',
      data: { version: '4.2' },
      warnings: [{ message: 'old kernel', fix: 'upgrade' }],
      errors: Array.from({ length: errors }, () => ({ message: 'criu check failed', fix: 'run criu check --all' })),
    });
    const bad = await cli(['daemon', 'check'], { responses: { healthCheck: { components: [component(1)] } } });
    assert.equal(bad.code, 1);
    assert.match(
      bad.stdout,
      /✖ criu \(plugin criu\)\n {4}version: 4.2\n {4}warning: old kernel\n {6}fix: upgrade\n {4}error: criu check failed\n {6}fix: run criu check --all/,
    );
    const good = await cli(['daemon', 'check'], { responses: { healthCheck: { components: [component(0)] } } });
    assert.equal(good.code, 0);
  });

  it('names the command level in usage hints', () => {
    assert.equal(commandPath(['dump', 'job', '--x'], 'Unknown argument: x'), 'dump job ');
    assert.equal(commandPath(['bogus'], 'Unknown argument: bogus'), '');
  });
});
