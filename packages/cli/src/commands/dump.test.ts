import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli } from '../testing/fake-cli.js';

describe('dump', () => {
  it('puts only the CRIU flags given into DumpReq.criu', async () => {
    const r = await cli(
      [
        'dump',
        'job',
        '0123',
        '-d',
        '/ckpt',
        '--compression',
        'lz4',
        '--streams',
        '4',
        '--tcp-established',
        '--no-leave-running',
        '--external',
        'a',
        '--external',
        'b',
      ],
      {
        responses: { dump: { checkpoint: { id: 'c1', path: '/ckpt/x.tar.lz4', size: 2048, compression: 'lz4' }, messages: [] } },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls[0], [
      'dump',
      {
        jid: '0123',
        type: '',
        pid: 0,
        dir: '/ckpt',
        name: '',
        compression: 'lz4',
        streams: 4,
        criu: { external: ['a', 'b'], leaveRunning: false, tcpEstablished: true },
        details: undefined,
      },
    ]);
    assert.equal(r.stdout, 'dumped job 0123 to /ckpt/x.tar.lz4 (2.0 KiB, lz4)\ncheckpoint c1\n');
  });

  it('sends no CriuOpts when no CRIU flag is given', async () => {
    const r = await cli(['dump', 'process', '4242'], { responses: { dump: { messages: [] } } });
    const req = r.calls[0]?.[1] as { criu: unknown; type: string; pid: number };
    assert.equal(req.criu, undefined);
    assert.equal(req.type, 'process');
    assert.equal(req.pid, 4242);
  });

  it('is a usage error for a bad PID, compression or flag', async () => {
    for (const args of [
      ['dump', 'process', 'abc'],
      ['dump', 'job', 'x', '--compression', 'rar'],
      ['dump', 'job', 'x', '--bogus'],
      ['dump', 'job', 'x', '--streams', '-1'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.deepEqual(r.calls, []);
    }
  });
});
