import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startThroughShim } from './shim.js';
import { fakeProgram } from './testing/fake-runc.js';

/**
 * A fake `runc run -d`: starts `container` (sh) in the background with runc's stdio (through fd 3:
 * sh gives a background job /dev/null as stdin otherwise), writes its PID to --pid-file, exits.
 */
function fakeRunc(container: string): string {
  return `while [ $# -gt 0 ]; do case "$1" in --pid-file) pidfile=$2; shift;; esac; shift; done
exec 3<&0; sh -c '${container}' <&3 3<&- &
echo $! > "$pidfile"`;
}

describe('the runc shim', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cedana-runc-shim-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('copies the container’s output into the log, runs the exit command, and reports the exit code', async () => {
    const runc = await fakeProgram('runc', fakeRunc('echo out; echo err >&2; sleep 0.3; exit 7'), dir);
    const log = join(dir, 'job.log');
    const marker = join(dir, 'deleted');
    const outcome = await startThroughShim({
      runc: [runc.path, 'run', '-d', '--pid-file', join(dir, 'pid1'), 'c1'],
      pidfile: join(dir, 'pid1'),
      io: { log },
      onExit: ['/bin/sh', '-c', `touch ${marker}`],
    });
    assert.equal(outcome.kind, 'started', JSON.stringify(outcome));
    if (outcome.kind !== 'started') return;
    assert.ok(outcome.started.pid > 0);
    assert.deepEqual(await outcome.started.exited, { code: 7, signal: null });
    assert.ok(existsSync(marker), 'the exit command ran before the exit was reported');
    assert.equal(await readFile(log, 'utf8'), 'out\nerr\n');
  });

  it('reports a container killed by a signal', async () => {
    const runc = await fakeProgram('runc', fakeRunc('sleep 30'), dir);
    const outcome = await startThroughShim({
      runc: [runc.path, '--pid-file', join(dir, 'pid2')],
      pidfile: join(dir, 'pid2'),
      io: { log: join(dir, 'l2') },
    });
    assert.equal(outcome.kind, 'started');
    if (outcome.kind !== 'started') return;
    process.kill(outcome.started.pid, 'SIGKILL');
    assert.deepEqual(await outcome.started.exited, { code: null, signal: 'SIGKILL' });
  });

  it('reports runc’s failure with its exit code, and what it printed goes to the log', async () => {
    const runc = await fakeProgram('runc', 'echo "runc run failed: no bundle" >&2; exit 3', dir);
    const log = join(dir, 'l3');
    const outcome = await startThroughShim({ runc: [runc.path, '--pid-file', join(dir, 'pid3')], pidfile: join(dir, 'pid3'), io: { log } });
    assert.equal(outcome.kind, 'failed');
    if (outcome.kind !== 'failed') return;
    assert.equal(outcome.exit, 3);
    assert.match(await readFile(log, 'utf8'), /no bundle/);
  });

  it('fails when runc succeeds without writing a PID', async () => {
    const runc = await fakeProgram('runc', 'exit 0', dir);
    const outcome = await startThroughShim({ runc: [runc.path], pidfile: join(dir, 'pid4'), io: { log: join(dir, 'l4') } });
    assert.equal(outcome.kind, 'failed');
    if (outcome.kind === 'failed') assert.match(outcome.output, /no PID/);
  });

  it('hands the daemon the pipes of an attachable container', async () => {
    const runc = await fakeProgram('runc', fakeRunc('read x; echo "got $x"; echo oops >&2; exit 5'), dir);
    const outcome = await startThroughShim({
      runc: [runc.path, '--pid-file', join(dir, 'pid5')],
      pidfile: join(dir, 'pid5'),
      io: { attach: true },
    });
    assert.equal(outcome.kind, 'started');
    if (outcome.kind !== 'started') return;
    const { stdin, stdout, stderr } = outcome.started.stdio ?? {};
    assert.ok(stdin && stdout && stderr);
    const read = (s: NodeJS.ReadableStream) =>
      new Promise<string>((resolve) => {
        let text = '';
        s.on('data', (c: Buffer) => (text += c.toString()));
        s.on('end', () => resolve(text));
      });
    const out = read(stdout);
    const err = read(stderr);
    stdin.end('hi\n');
    assert.equal(await out, 'got hi\n');
    assert.equal(await err, 'oops\n');
    assert.deepEqual(await outcome.started.exited, { code: 5, signal: null });
  });
});
