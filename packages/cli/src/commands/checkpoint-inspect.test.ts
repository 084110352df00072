import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckpointSummary } from '@cedana/core/proto';
import { cli } from '../testing/fake-cli.js';

const summary: CheckpointSummary = {
  processes: [{ pid: 4242, ppid: 0, pgid: 4242, sid: 4242, comm: 'perl', threads: [4242], state: 'alive' }],
  files: [
    { pid: 4242, fd: 3, type: 'reg', path: '/tmp/data.txt', id: 1, flags: 1025, pos: 6 },
    { pid: 4242, fd: 4, type: 'pipe', path: 'pipe:[77]', id: 2, flags: 0, pos: 0 },
    { pid: 4242, fd: 6, type: 'inet', path: 'socket:[88]', id: 3, flags: 0, pos: 0 },
    { pid: 4242, fd: 7, type: 'unix', path: 'socket:[89]', id: 4, flags: 0, pos: 0 },
  ],
  memory: [{ pid: 4242, vmas: 50, mappedBytes: 9 << 20, dumpedBytes: 3 << 19, lazyBytes: 0, parentBytes: 0 }],
  sockets: [
    socket({
      fd: 6,
      family: 'inet',
      type: 'stream',
      proto: 'tcp',
      state: 'listen',
      srcAddr: '127.0.0.1',
      srcPort: 8080,
      dstAddr: '0.0.0.0',
    }),
    socket({ fd: 7, family: 'unix', type: 'stream', state: 'listen', name: '@cedana-test' }),
  ],
  mappedBytes: 9 << 20,
  dumpedBytes: 3 << 19,
  images: ['pstree.img'],
};

function socket(s: Partial<CheckpointSummary['sockets'][number]>): CheckpointSummary['sockets'][number] {
  const base = { pid: 4242, fd: 0, family: '', type: '', proto: '', state: '', srcAddr: '', srcPort: 0, dstAddr: '', dstPort: 0 };
  return { ...base, name: '', ino: 1, peer: 0, backlog: 5, ...s };
}

const checkpoint = {
  id: 'ck1',
  jid: 'web',
  type: 'process',
  path: '/ck/ck1.tar.lz4',
  compression: 'lz4',
  size: 2048,
  createdAt: '',
  pid: 4242,
  streams: 0,
};

describe('checkpoint inspect', () => {
  it('prints the processes, open files, memory and sockets as tables', async () => {
    const r = await cli(['checkpoint', 'inspect', 'ck1'], { responses: { inspectCheckpoint: { checkpoint, manifest: {}, summary } } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls[0], ['inspectCheckpoint', { id: 'ck1' }]);
    assert.match(r.stdout, /COMPRESSION: +lz4/);
    assert.match(r.stdout, /PROCESSES\nPID +PPID +PGID +SID +THREADS +STATE +COMMAND\n4242 +0 +4242 +4242 +1 +alive +perl/);
    assert.match(r.stdout, /PID +FD +TYPE +MODE +PATH\n4242 +3 +reg +w +\/tmp\/data\.txt/);
    assert.match(r.stdout, /4242 +4 +pipe +r +pipe:\[77\]/);
    assert.match(r.stdout, /4242 +6 +inet +- +socket:\[88\]/);
    assert.match(r.stdout, /MEMORY \(mapped 9\.0 MiB, dumped 1\.5 MiB\)\nPID +MAPPINGS +MAPPED +DUMPED\n4242 +50 +9\.0 MiB +1\.5 MiB/);
    assert.match(r.stdout, /4242 +6 +tcp +inet +listen +127\.0\.0\.1:8080 +\*:\*/);
    assert.match(r.stdout, /4242 +7 +unix\/stream +unix +listen +@cedana-test/);
  });

  it('prints JSON with --json', async () => {
    const r = await cli(['checkpoint', 'inspect', 'ck1', '--json'], {
      responses: { inspectCheckpoint: { checkpoint, manifest: { a: 1 }, summary } },
    });
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.summary.sockets[0].srcPort, 8080);
    assert.deepEqual(out.manifest, { a: 1 });
    assert.equal(out.checkpoint.id, 'ck1');
  });

  it('says so when a checkpoint has no CRIU process images', async () => {
    const r = await cli(['inspect', 'ck1'], { responses: { inspectCheckpoint: { checkpoint, manifest: {}, summary: undefined } } });
    assert.match(r.stdout, /no CRIU process images in this checkpoint/);
  });
});
