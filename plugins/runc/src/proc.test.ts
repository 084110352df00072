import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mountOfPath, mountsOf, parseMaps, unescapeMountPath } from './proc.js';

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

  it('reads the mounts of its own process, with a root', async () => {
    assert.ok((await mountsOf(process.pid)).some((m) => m.mountPoint === '/'));
  });
});
