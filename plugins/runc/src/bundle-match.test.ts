import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Bundle } from './bundle.js';
import { bundleNeeds, checkBundle, mountDestinations } from './bundle-match.js';

describe('bundle matching', () => {
  let dir: string;
  let bundle: Bundle;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cedana-runc-match-'));
    await mkdir(join(dir, 'rootfs', 'bin'), { recursive: true });
    await writeFile(join(dir, 'rootfs', 'bin', 'busybox'), '12345');
    bundle = { dir, rootfs: join(dir, 'rootfs'), config: { mounts: [{ destination: '/proc' }, { destination: '/data' }] } };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('accepts a bundle with the files and mounts the checkpoint needs', async () => {
    await checkBundle(bundle, { files: [{ path: '/bin/busybox', size: 5 }], mounts: ['/data', '/proc'] }, dir);
    await checkBundle(bundle, undefined, dir);
  });

  it('names a missing file, a file of another size and a missing mount', async () => {
    await assert.rejects(
      checkBundle(
        bundle,
        {
          files: [
            { path: '/bin/sh', size: 1 },
            { path: '/bin/busybox', size: 9 },
          ],
          mounts: ['/data', '/extra'],
        },
        '/the/bundle',
      ),
      (err: Error & { code: string; details: string[] }) => {
        assert.equal(err.code, 'CEDANA_ERR_RUNC_BUNDLE_INVALID');
        assert.match(err.message, /^bundle \/the\/bundle does not match the checkpoint: \/bin\/sh is missing from its rootfs$/);
        assert.deepEqual(err.details, [
          '/bin/sh is missing from its rootfs',
          "/bin/busybox has 5 bytes in its rootfs, the checkpoint's has 9",
          'its config.json has no mount at /extra',
        ]);
        return true;
      },
    );
  });

  it('records what a running process maps from its root mount, with sizes', async () => {
    const needs = await bundleNeeds(process.pid, { mounts: [{ destination: '/b' }, { destination: '/a' }] });
    assert.deepEqual(needs.mounts, ['/a', '/b']);
    const node = needs.files.find((f) => f.path === process.execPath);
    if (node) assert.ok(node.size > 0);
    assert.ok(needs.files.every((f) => f.path.startsWith('/') && f.size >= 0));
  });

  it('lists mount destinations sorted, ignoring entries without one', () => {
    assert.deepEqual(mountDestinations({ mounts: [{ destination: '/z' }, { type: 'tmpfs' }, { destination: '/a' }] }), ['/a', '/z']);
    assert.deepEqual(mountDestinations(undefined), []);
  });
});
