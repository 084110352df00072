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

  it('prints the stats with --print-stats, and the whole response (stats too) with --json', async () => {
    const resp = {
      checkpoint: { id: 'c1', path: '/ckpt/x.tar.zst', size: 1 << 20, compression: 'zstd' },
      messages: ['deleted checkpoint c0 (/ckpt/old): checkpoint.keep=1'],
      stats: { frozenNs: 2e9, writeNs: 1e9, bytesRaw: 2 << 20, bytesStored: 1 << 20, compression: 'zstd', streams: [] },
    };
    const progress = [{ phase: 'pack', bytesDone: 1 << 20, bytesTotal: 2 << 20 }];
    const stats = await cli(['dump', 'job', 'a', '--print-stats', '--progress'], { responses: { dump: resp }, progress });
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(stats.calls[0]?.[0], 'watchProgress', 'watches before it dumps');
    assert.match(stats.stderr, /^dumping job a: pack 50% 1\.0 MiB \/ 2\.0 MiB$/m);
    assert.match(stats.stderr, /^deleted checkpoint c0/m);
    assert.match(stats.stderr, /^ {2}frozen +2\.00 s$/m);
    assert.match(stats.stderr, /^ {2}bytes +2\.0 MiB raw -> 1\.0 MiB stored \(2\.00:1\)$/m);
    assert.match(stats.stdout, /dumped job a to \/ckpt\/x\.tar\.zst/);

    const json = await cli(['dump', 'job', 'a', '--json', '--progress'], { responses: { dump: resp } });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), resp);
    assert.equal(json.stderr, '', 'no progress, no messages outside the JSON');
    assert.deepEqual(
      json.calls.map(([name]) => name),
      ['dump'],
    );
  });
});
