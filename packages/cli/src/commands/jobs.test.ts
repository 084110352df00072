import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli } from '../testing/fake-cli.js';

describe('job and checkpoint commands', () => {
  it('lists jobs as JSON', async () => {
    const jobs = [{ jid: 'web', type: 'process' }];
    const r = await cli(['jobs', '--json'], { responses: { list: { jobs } } });
    assert.deepEqual(JSON.parse(r.stdout), jobs);
  });

  it('inspects a job, or says it does not exist', async () => {
    const r = await cli(['job', 'inspect', 'web'], { responses: { list: { jobs: [{ jid: 'web', type: 'process' }] } } });
    assert.deepEqual(r.calls[0], ['list', { jids: ['web'], type: '' }]);
    assert.equal(JSON.parse(r.stdout).jid, 'web');
    const missing = await cli(['job', 'inspect', 'x'], { responses: { list: { jobs: [] } } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /CEDANA_ERR_JOB_NOT_FOUND/);
  });

  it('kills with a signal, deletes checkpoints by ID', async () => {
    const k = await cli(['job', 'kill', 'a', 'b', '-s', 'SIGTERM']);
    assert.deepEqual(k.calls[0], ['kill', { jids: ['a', 'b'], signal: 'SIGTERM' }]);
    const d = await cli(['checkpoint', 'delete', 'c1', 'c2']);
    assert.deepEqual(d.calls[0], ['deleteCheckpoint', { ids: ['c1', 'c2'] }]);
  });

  it('lists the checkpoints of one job', async () => {
    const r = await cli(['job', 'checkpoint', 'list', 'web'], { responses: { listCheckpoints: { checkpoints: [] } } });
    assert.deepEqual(r.calls[0], ['listCheckpoints', { jid: 'web' }]);
    assert.equal(r.stdout, 'no checkpoints\n');
  });

  it('restores a job and prints the PID', async () => {
    const r = await cli(['restore', 'job', 'web', '--attachable'], { responses: { restore: { pid: 99, jid: 'web', messages: [] } } });
    assert.deepEqual(r.calls[0], [
      'restore',
      { jid: 'web', path: '', checkpointId: '', type: '', criu: undefined, attachable: true, log: '', details: undefined },
    ]);
    assert.equal(r.stdout, 'restored job web (pid 99)\n');
  });
});
