import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXTRACTED_PREFIX, prepareBundle, readBundle } from './bundle.js';

describe('bundles', () => {
  let dir: string;
  const config = { ociVersion: '1.0.2', root: { path: 'rootfs', readonly: false }, process: { args: ['sh'] }, mounts: [] };
  /** Bundle folders this test unpacked, to check they are gone. */
  const unpacked = async () => (await readdir(tmpdir())).filter((f) => f.startsWith(`${EXTRACTED_PREFIX}unit-`));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cedana-runc-bundle-test-'));
    await mkdir(join(dir, 'b', 'rootfs', 'bin'), { recursive: true });
    await writeFile(join(dir, 'b', 'rootfs', 'bin', 'prog'), 'program');
    await writeFile(join(dir, 'b', 'config.json'), JSON.stringify(config));
    execFileSync('tar', ['-C', join(dir, 'b'), '-cf', join(dir, 'bundle.tar'), 'config.json', 'rootfs']);
    execFileSync('tar', ['-C', join(dir, 'b', 'rootfs'), '-czf', join(dir, 'rootfs.tar.gz'), '.']);
    await writeFile(join(dir, 'not-a-tar'), 'hello');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('uses a folder in place, with the rootfs its config.json names', async () => {
    const b = await prepareBundle(join(dir, 'b'), 'unit-1');
    assert.equal(b.dir, join(dir, 'b'));
    assert.equal(b.rootfs, join(dir, 'b', 'rootfs'));
    assert.equal(b.extracted, undefined);
    assert.deepEqual(b.config.process, { args: ['sh'] });
  });

  it('unpacks a tar of a whole bundle into a folder of its own', async () => {
    const b = await prepareBundle(join(dir, 'bundle.tar'), 'unit-2');
    assert.ok(b.extracted && basename(b.extracted).startsWith(`${EXTRACTED_PREFIX}unit-2-`));
    assert.equal(await readFile(join(b.rootfs, 'bin', 'prog'), 'utf8'), 'program');
    await rm(b.extracted, { recursive: true });
  });

  it('completes a rootfs-only tar (docker export) with the checkpoint’s config.json, root.path set to rootfs', async () => {
    const saved = { ...config, root: { path: '/somewhere/else/rootfs', readonly: false } };
    const b = await prepareBundle(join(dir, 'rootfs.tar.gz'), 'unit-3', saved);
    assert.equal(await readFile(join(b.dir, 'rootfs', 'bin', 'prog'), 'utf8'), 'program');
    assert.deepEqual(JSON.parse(await readFile(join(b.dir, 'config.json'), 'utf8')).root, { path: 'rootfs', readonly: false });
    await rm(b.extracted as string, { recursive: true });
  });

  it('refuses a rootfs-only tar when the checkpoint kept no config.json, leaving nothing unpacked', async () => {
    await assert.rejects(prepareBundle(join(dir, 'rootfs.tar.gz'), 'unit-4'), {
      code: 'CEDANA_ERR_RUNC_BUNDLE_INVALID',
      message: /has no config\.json/,
    });
    assert.deepEqual(await unpacked(), []);
  });

  it('refuses what does not exist, a file that is no tar, and a folder without config.json or rootfs', async () => {
    await assert.rejects(prepareBundle(join(dir, 'nope'), 'unit-5'), { code: 'CEDANA_ERR_RUNC_BUNDLE_INVALID', message: /does not exist/ });
    await assert.rejects(prepareBundle(join(dir, 'not-a-tar'), 'unit-5'), { code: 'CEDANA_ERR_RUNC_BUNDLE_INVALID', message: /not a tar/ });
    await assert.rejects(readBundle(join(dir, 'b', 'rootfs')), {
      code: 'CEDANA_ERR_RUNC_BUNDLE_INVALID',
      message: /has no config\.json \(ENOENT\)/,
    });
    const norootfs = join(dir, 'no-rootfs');
    await mkdir(norootfs);
    await writeFile(join(norootfs, 'config.json'), '{"root":{"path":"missing"}}');
    await assert.rejects(readBundle(norootfs), { code: 'CEDANA_ERR_RUNC_BUNDLE_INVALID', message: /rootfs .* is not a folder/ });
    await writeFile(join(norootfs, 'config.json'), '[1]');
    await assert.rejects(readBundle(norootfs), { message: /not a JSON object/ });
    assert.deepEqual(await unpacked(), []);
    assert.ok(existsSync(join(dir, 'not-a-tar')));
  });
});
