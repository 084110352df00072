/** A server with a listening TCP socket and state in memory survives dump and restore. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, it } from 'node:test';
import { TestDaemon, waitFor } from '../harness/daemon.js';

const PORT = 17_801;
// Each connection is answered with the number of connections so far: state held only in memory.
const SERVER = `let n = 0; require('net').createServer((s) => { n++; s.end(String(n)); }).listen(${PORT}, '127.0.0.1');`;

function ask(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect(PORT, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', () => resolve(undefined));
  });
}

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  await d.stop();
});

it('restores a TCP server that keeps its listening socket and its in-memory count', async () => {
  // libuv's io_uring would be a resource CRIU cannot dump; the env var turns it off.
  await d.ok(['run', 'process', '--jid', 'tcp', '--env', 'UV_USE_IO_URING=0', '--', process.execPath, '-e', SERVER]);
  await waitFor('server up', ask);
  assert.equal(await ask(), '2');
  await d.ok(['dump', 'job', 'tcp', '--compression', 'lz4']);
  assert.equal(await ask(), undefined, 'nothing listens while the job is checkpointed');
  await d.ok(['restore', 'job', 'tcp']);
  assert.equal(await waitFor('server back', ask), '3', 'the count goes on from 2');
  await d.ok(['job', 'kill', 'tcp']);
});
