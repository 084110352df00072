/**
 * The plugin SDK a third party installs (issue 14): `npm pack` of packages/plugin-sdk as it
 * is would ship `"@cedana/core": "workspace:^"`, a tarball that installs nowhere, so it is
 * refused with the way that works; scripts/pack-sdk.mjs (what `cedana plugin sdk` hands out)
 * makes a tarball with no workspace range anywhere that npm installs offline.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../harness/plugin-package.js';

const run = promisify(execFile);
const env = { ...process.env, npm_config_update_notifier: 'false' };

describe('packing the plugin SDK', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'cedana-sdk-pack-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('refuses a bare npm pack of the workspace folder, naming the way that works, and writes no tarball', async () => {
    const dest = join(work, 'bare');
    const err = await run('npm', ['pack', '--pack-destination', dest, '--cache', join(work, 'npm-cache')], {
      cwd: join(ROOT, 'packages/plugin-sdk'),
      env,
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    assert.ok(err, 'npm pack succeeded');
    assert.match(err.stderr, /workspace:\^/);
    assert.match(err.stderr, /node scripts\/pack-sdk\.mjs DEST/);
    assert.deepEqual(await readdir(dest).catch(() => []), []);
  });

  it('packs with scripts/pack-sdk.mjs a tarball with no workspace range that npm installs offline', async () => {
    const dest = join(work, 'packed');
    const { stdout } = await run(process.execPath, [join(ROOT, 'scripts/pack-sdk.mjs'), dest], { env });
    const tarball = stdout.trim();
    assert.match(tarball, /cedana-plugin-sdk-\d+\.\d+\.\d+\.tgz$/);
    const manifests = await run('tar', ['-xOzf', tarball, '--wildcards', '*package.json'], { maxBuffer: 64 << 20 });
    assert.doesNotMatch(manifests.stdout, /workspace:/);
    const listed = (await run('tar', ['-tzf', tarball], { maxBuffer: 64 << 20 })).stdout.split('\n');
    for (const source of ['codec.c', 'lz4block.c', 'lz4frame.c', 'napi-args.h']) {
      assert.ok(
        listed.includes(`package/native/${source}`),
        `the tarball ships native/${source} (@cedana/plugin-sdk/native builds from it)`,
      );
    }
    const app = join(work, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), '{ "name": "app", "version": "1.0.0", "type": "module" }\n');
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', join(work, 'npm-cache'), tarball], { cwd: app, env });
    const { stdout: loaded } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('@cedana/plugin-sdk'); console.log(typeof m.definePlugin, typeof m.spawnClean)",
      ],
      { cwd: app, env },
    );
    assert.equal(loaded.trim(), 'function function');
  });
});
