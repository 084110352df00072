/**
 * A third party alone (issue 14): the example hook plugin is copied OUT of the repository
 * and built from the packed SDK only (`npm install --save-dev "$(cedana plugin sdk)"`, plus
 * typescript and @types/node from a registry), packed, published to a registry on loopback
 * (Verdaccio), installed with `cedana plugin install NAME --registry URL`, and it adds its
 * pre-dump and post-restore hooks to plain `process` jobs of a real daemon. Its own test-kit
 * test passes there too.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CLI, TestDaemon } from '../harness/daemon.js';
import { npmPack, ROOT } from '../harness/plugin-package.js';
import { TestRegistry } from '../harness/registry.js';

const run = promisify(execFile);
const EXAMPLE = join(ROOT, 'examples/plugin-hook');

describe('a plugin built outside the repository from the packed SDK alone', () => {
  let registry: TestRegistry;
  let work: string;
  let author: string;
  let d: TestDaemon;
  let trail: string;
  const npm = (args: string[], cwd: string) =>
    run('npm', [...args, '--registry', registry.url, '--cache', join(work, 'npm-cache'), '--no-audit', '--no-fund'], {
      cwd,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'cedana-sdk-outside-'));
    registry = await TestRegistry.start();
    // The registry the author's npm talks to holds what any registry has: typescript and @types/node.
    const typesNode = await realpath(join(ROOT, 'node_modules/@types/node'));
    for (const folder of [
      await realpath(join(ROOT, 'node_modules/typescript')),
      typesNode,
      join(dirname(dirname(typesNode)), 'undici-types'),
    ]) {
      await registry.publish(await npmPack(folder, join(work, 'tarballs')));
    }
    // The author's folder: the example's sources, and a package.json without its workspace devDependencies.
    author = join(work, 'cedana-plugin-hook');
    await mkdir(author);
    for (const f of ['src', 'tsconfig.json', 'README.md']) await cp(join(EXAMPLE, f), join(author, f), { recursive: true });
    const pkg = JSON.parse(await readFile(join(EXAMPLE, 'package.json'), 'utf8')) as Record<string, unknown>;
    delete pkg.devDependencies;
    await writeFile(join(author, 'package.json'), JSON.stringify(pkg, null, 2));

    trail = join(work, 'trail');
    const record = ['sh', '-c', `echo "$CEDANA_HOOK $CEDANA_PID" >> ${trail}`];
    await writeFile(join(work, 'config.json'), JSON.stringify({ plugins: { hook: { pre_dump: record, post_restore: record } } }));
    d = await TestDaemon.start({ CEDANA_PLUGINS_DIR: join(work, 'plugins'), CEDANA_CONFIG: join(work, 'config.json') });
  });
  after(async () => {
    await d?.stop();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('`cedana plugin sdk` names a tarball that installs with no workspace ranges left, and the plugin builds against it', async () => {
    const sdk = (await d.ok(['plugin', 'sdk'])).trim();
    assert.match(sdk, /cedana-plugin-sdk-\d+\.\d+\.\d+\.tgz$/);
    await npm(['install', '--save-dev', sdk, 'typescript@5', '@types/node@20'], author);
    const installed = await readFile(join(author, 'node_modules/@cedana/plugin-sdk/package.json'), 'utf8');
    assert.doesNotMatch(installed, /workspace:/);
    const core = await readFile(join(author, 'node_modules/@cedana/core/package.json'), 'utf8').catch(() =>
      readFile(join(author, 'node_modules/@cedana/plugin-sdk/node_modules/@cedana/core/package.json'), 'utf8'),
    );
    assert.doesNotMatch(core, /workspace:/);
    const tsc = await run(process.execPath, [join(author, 'node_modules/typescript/bin/tsc')], { cwd: author }).catch(
      (err: Error & { stdout?: string }) => assert.fail(`tsc failed:\n${err.stdout}`),
    );
    assert.equal(tsc.stdout, '');
    assert.ok(JSON.parse(await readFile(join(author, 'package.json'), 'utf8')).devDependencies['@cedana/plugin-sdk'].startsWith('file:'));
  });

  it('is packed, published to the registry, installed by name, and hooks plain process jobs in a real daemon', async () => {
    await registry.publish(await npmPack(author, join(work, 'out')));
    const criu = await d.cli(['plugin', 'install', 'criu', '--registry', '']);
    assert.equal(criu.code, 0, criu.stderr);
    const r = await d.cli(['plugin', 'install', 'cedana-plugin-hook', '--registry', registry.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /installed hook 1\.0\.0 \(cedana-plugin-hook\)/);
    assert.match(r.stderr, /daemon: hook 1\.0\.0 loaded/);
    assert.match(await d.ok(['plugin', 'inspect', 'hook']), /applies to {3}every job type/);

    await d.ok(['run', 'process', '--jid', 'outside', '--', 'sleep', '300']);
    const [job] = await d.json<{ state: { pid: number } }[]>(['ps']);
    const pid = job?.state.pid;
    assert.ok(pid);
    const dumped = await d.cli(['dump', 'job', 'outside', '--compression', 'none']);
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.match(dumped.stderr, new RegExp(`hook: pre-dump of PID ${pid} \\(process\\)`));
    const path = /^dumped .* to (\S+) \(/m.exec(dumped.stdout)?.[1];
    assert.ok(path, dumped.stdout);
    const manifest = JSON.parse(await readFile(join(path, 'checkpoint.json'), 'utf8')) as { sections: { hook?: { pid: number } } };
    assert.equal(manifest.sections.hook?.pid, pid);
    const restored = await d.cli(['restore', 'job', 'outside']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, new RegExp(`hook: restored PID ${pid} \\(dumped `));
    assert.deepEqual((await readFile(trail, 'utf8')).trim().split('\n'), [`pre-dump ${pid}`, `post-restore ${pid}`]);
  });

  it('plugin remove says what stops working: criu is refused for the running job, the hook goes with a note', async () => {
    const criu = await d.cli(['plugin', 'remove', 'criu']);
    assert.equal(criu.code, 1);
    assert.match(criu.stderr, /CEDANA_ERR_PLUGIN_IN_USE/);
    assert.match(criu.stderr, /criu: job outside \(process, PID \d+\) can no longer be dumped or restored: criu does its dump and restore/);
    const hook = await d.cli(['plugin', 'remove', 'hook']);
    assert.equal(hook.code, 0, hook.stderr);
    assert.match(
      hook.stderr,
      /note: hook's DumpMiddleware, RestoreMiddleware will no longer run for jobs of every type; those requests go on without it \(1 running jobs\)/,
    );
    const r = await d.cli(['plugin', 'install', 'cedana-plugin-hook', '--registry', registry.url]); // back, for the test below
    assert.equal(r.code, 0, r.stderr);
  });

  it("passes its own test-kit test, run from the author's folder", async () => {
    // NODE_TEST_CONTEXT would make the inner runner report to this one instead of printing
    const { NODE_TEST_CONTEXT: _inner, ...env } = process.env;
    const r = await run(process.execPath, ['--test', '--test-reporter=spec', 'dist/'], {
      cwd: author,
      env: { ...env, CEDANA_CLI: CLI, CEDANA_PLUGINS_DIR: join(work, 'plugins') },
    }).catch((err: Error & { stdout?: string; stderr?: string }) => assert.fail(`its tests failed:\n${err.stdout}${err.stderr}`));
    assert.match(r.stdout, /pass 3/);
    assert.match(r.stdout, /fail 0/);
  });
});
