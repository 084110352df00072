import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli } from '../testing/fake-cli.js';

describe('run process', () => {
  it('sends the command after -- untouched, flags and all', async () => {
    const r = await cli(
      ['run', 'process', '-j', 'web', '--env', 'A=1', '--env', 'B=2', '--cwd', '/srv', '--', 'python3', '-u', '010', '--port=8'],
      {
        responses: { run: { jid: 'web', pid: 4242, messages: [] } },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [
      [
        'run',
        {
          jid: 'web',
          type: 'process',
          process: { args: ['python3', '-u', '010', '--port=8'], env: ['A=1', 'B=2'], workingDir: '/srv' },
          log: '',
          attachable: false,
          gpuEnabled: false,
          details: undefined,
        },
      ],
    ]);
    assert.equal(r.stdout, 'started job web (pid 4242)\n');
  });

  it('is also `exec`, and takes the command without -- when it has no flags', async () => {
    const r = await cli(['exec', '--attachable', 'sleep', '10'], { responses: { run: { jid: 'j1', pid: 1, messages: [] } } });
    const req = r.calls[0]?.[1] as { process: { args: string[] }; attachable: boolean };
    assert.deepEqual(req.process.args, ['sleep', '10']);
    assert.equal(req.attachable, true);
  });

  it('sends --pid-ns and --no-pid-ns as pidNamespace, and leaves it to the config without either', async () => {
    const sent = async (flags: string[]) => {
      const r = await cli(['run', 'process', ...flags, '--', 'sleep', '1'], { responses: { run: { jid: 'j', pid: 1, messages: [] } } });
      assert.equal(r.code, 0, r.stderr);
      return (r.calls[0]?.[1] as { pidNamespace?: boolean } | undefined)?.pidNamespace;
    };
    assert.equal(await sent(['--pid-ns']), true);
    assert.equal(await sent(['--no-pid-ns']), false);
    assert.equal(await sent([]), undefined);
  });

  it('is a usage error (exit 2) without a command, and sends nothing', async () => {
    const r = await cli(['run', 'process', '-j', 'x']);
    assert.equal(r.code, 2);
    assert.deepEqual(r.calls, []);
    assert.match(r.stderr, /^Error \[CEDANA_ERR_INVALID_ARGUMENT\]: name the program to run/);
  });

  it('rejects --env without KEY=VALUE', async () => {
    const r = await cli(['run', 'process', '--env', 'NOPE', '--', 'ls']);
    assert.equal(r.code, 2);
  });
});
