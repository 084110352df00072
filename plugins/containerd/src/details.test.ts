import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detailsOf } from './commands.js';
import { containerdDetails, requireId, withContainerdDetails } from './details.js';

describe('details.containerd', () => {
  it('keeps the strings and the rootfs flag, and drops empty values', () => {
    const d = containerdDetails({
      containerd: { id: 'web', namespace: 'ns1', address: '/s.sock', image: 'a/b:1', rootfs: true, snapshotter: '' },
    });
    assert.deepEqual(d, { id: 'web', namespace: 'ns1', address: '/s.sock', image: 'a/b:1', rootfs: true });
  });

  it('refuses a container ID or namespace containerd would refuse, and values of the wrong type', () => {
    for (const bad of [{ id: 'a b' }, { id: '-x' }, { namespace: 'ns/1' }, { id: 3 }, { rootfs: 'yes' }]) {
      assert.throws(() => containerdDetails({ containerd: bad }), { code: 'CEDANA_ERR_INVALID_ARGUMENT' }, JSON.stringify(bad));
    }
    assert.throws(() => containerdDetails({ containerd: 'x' }), { code: 'CEDANA_ERR_INVALID_ARGUMENT' });
  });

  it('names the flag when the ID is missing', () => {
    assert.throws(() => requireId({}, 'dump'), /cedana dump containerd --id ID/);
  });

  it('makes the socket path absolute in the CLI, and passes --rootfs only when set', () => {
    assert.deepEqual(detailsOf({ 'containerd-address': 'rel.sock', id: 'x', rootfs: false }), {
      address: `${process.cwd()}/rel.sock`,
      id: 'x',
    });
    assert.deepEqual(detailsOf({ id: 'x', rootfs: true, namespace: 'n' }), { id: 'x', rootfs: true, namespace: 'n' });
  });

  it('replaces details.containerd in a job record, without empty values', () => {
    assert.deepEqual(withContainerdDetails({ other: 1 }, { id: 'a', image: '' }), { other: 1, containerd: { id: 'a' } });
  });
});

describe('CRIU log', () => {
  it('heads an error with the line that says what could not be done', async () => {
    const { criuHeadline } = await import('@cedana/plugin-sdk');
    const lines = [
      "(00.143254) Error (criu/files-reg.c:1031): Can't dump ghost file /big of 9900032 size, increase limit",
      '(00.143267) Error (criu/cr-dump.c:1545): Dump files (pid: 1381) failed with -1',
      '(00.204802) Error (criu/cr-dump.c:1975): Dumping FAILED.',
    ];
    assert.equal(criuHeadline(lines), "Can't dump ghost file /big of 9900032 size, increase limit");
  });
});
