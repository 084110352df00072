import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { isLive, mountOfPath, mountsOf, parseMaps, processStartTime, processTree, unescapeMountPath } from './proc.js';

describe('/proc', () => {
  it('takes the mapped regular files from maps, not anonymous, deleted or device mappings', () => {
    const maps = [
      '00400000-00401000 r--p 00000000 fe:00 2146565                            /bin/busybox',
      '00401000-00585000 r-xp 00001000 fe:00 2146565                            /bin/busybox',
      '7f0000000000-7f0000001000 rw-p 00000000 00:00 0                          [heap]',
      '7f0000001000-7f0000002000 rw-s 00000000 00:05 12                         /dev/zero (deleted)',
      '7f0000002000-7f0000003000 r--p 00000000 fe:00 99                         /usr/lib/with space.so',
      '7f0000003000-7f0000004000 r--p 00000000 fe:00 98                         /tmp/gone (deleted)',
      '7f0000004000-7f0000005000 rw-s 00000000 00:01 97                         /memfd:x (deleted)',
      '7f0000005000-7f0000006000 rw-p 00000000 00:00 0',
    ].join('\n');
    assert.deepEqual(parseMaps(maps), ['/bin/busybox', '/usr/lib/with space.so']);
  });

  it('finds the mount a path lives on', () => {
    const mounts = ['/', '/proc', '/data', '/data/inner', '/dev'];
    assert.equal(mountOfPath('/bin/busybox', mounts), '/');
    assert.equal(mountOfPath('/data/count', mounts), '/data');
    assert.equal(mountOfPath('/data/inner/x', mounts), '/data/inner');
    assert.equal(mountOfPath('/database', mounts), '/');
  });

  it('unescapes mountinfo paths', () => {
    assert.equal(unescapeMountPath('/mnt/with\\040space\\134x'), '/mnt/with space\\x');
  });

  it('reads its own process: live, a start time, a tree, mounts with a root', async () => {
    assert.equal(await isLive(process.pid), true);
    assert.ok(((await processStartTime(process.pid)) ?? 0) > 0);
    assert.ok((await mountsOf(process.pid)).some((m) => m.mountPoint === '/'));
    const child = spawn('sleep', ['5']);
    try {
      await new Promise((r) => child.once('spawn', r));
      assert.ok((await processTree(process.pid)).includes(child.pid as number));
    } finally {
      child.kill('SIGKILL');
    }
    assert.equal(await isLive(2 ** 22 + 7), false);
    assert.equal(await processStartTime(2 ** 22 + 7), undefined);
  });
});
