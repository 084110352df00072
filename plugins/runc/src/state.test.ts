import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerState, listContainers, parseState, runningContainer } from './state.js';
import { fakeProgram } from './testing/fake-runc.js';

/** A fake runc answering `state`/`list` for: c1 running, c2 stopped, c3 paused; anything else does not exist. */
async function fakeRunc(): Promise<string> {
  const state = (id: string, pid: number, status: string) =>
    JSON.stringify({ ociVersion: '1.0.2', id, pid, status, bundle: `/b/${id}`, rootfs: `/b/${id}/rootfs`, created: 't', owner: '' });
  return (
    await fakeProgram(
      'runc',
      `while [ "$1" = --root ]; do shift 2; done
case "$1 $2" in
  "state c1") echo '${state('c1', 42, 'running')}';;
  "state c2") echo '${state('c2', 0, 'stopped')}';;
  "state c3") echo '${state('c3', 43, 'paused')}';;
  "state broken") echo 'time="t" level=error msg="open /r/state.json: permission denied"' >&2; exit 1;;
  "state "*) echo "time=\\"t\\" level=error msg=\\"container does not exist\\"" >&2; exit 1;;
  "list --format") echo '[${state('c1', 42, 'running')}]';;
esac`,
    )
  ).path;
}

describe('container state', () => {
  it('reads runc state, and undefined for a container runc does not know', async () => {
    const runc = await fakeRunc();
    assert.deepEqual(await containerState(runc, '/r', 'c1'), {
      id: 'c1',
      pid: 42,
      status: 'running',
      bundle: '/b/c1',
      rootfs: '/b/c1/rootfs',
      created: 't',
    });
    assert.equal(await containerState(runc, '/r', 'nope'), undefined);
    await assert.rejects(containerState(runc, '/r', 'broken'), {
      code: 'CEDANA_ERR_RUNC_FAILED',
      details: ['open /r/state.json: permission denied'],
    });
  });

  it('says which of "unknown", "stopped" or "paused" a container that cannot be dumped is', async () => {
    const runc = await fakeRunc();
    assert.equal((await runningContainer(runc, '/r', 'c1')).pid, 42);
    await assert.rejects(runningContainer(runc, '/r', 'nope'), {
      code: 'CEDANA_ERR_CONTAINER_NOT_FOUND',
      message: /"nope" under --root \/r/,
    });
    await assert.rejects(runningContainer(runc, '', 'nope'), { message: /default root \(\/run\/runc\)/ });
    await assert.rejects(runningContainer(runc, '/r', 'c2'), { code: 'CEDANA_ERR_CONTAINER_NOT_RUNNING', message: /is stopped/ });
    await assert.rejects(runningContainer(runc, '/r', 'c3'), {
      code: 'CEDANA_ERR_CONTAINER_NOT_RUNNING',
      hint: /runc --root \/r resume c3/,
    });
  });

  it('lists containers, and none when runc prints null', async () => {
    assert.deepEqual(
      (await listContainers(await fakeRunc(), '')).map((c) => c.id),
      ['c1'],
    );
    const empty = await fakeProgram('runc', 'echo null');
    assert.deepEqual(await listContainers(empty.path, ''), []);
  });

  it('parses a state with missing fields as empty ones', () => {
    assert.deepEqual(parseState({ id: 'x' }), { id: 'x', pid: 0, status: '', bundle: '', rootfs: '', created: '' });
  });
});
