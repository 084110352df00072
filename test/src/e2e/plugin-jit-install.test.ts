/**
 * Just-in-time install (issue 14): a command of a first-party runtime plugin that is not
 * installed says which plugin is missing and how to get it (not "Unknown arguments"), and
 * with --install, or config plugins.auto_install, installs it from the local catalog and goes on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDaemon } from '../harness/daemon.js';

describe('a first-party runtime command before its plugin is installed', () => {
  let d: TestDaemon;
  const installed = async () =>
    (await d.json<{ plugin: string; installed?: string }[]>(['plugin', 'list', '--registry', '']))
      .filter((r) => r.installed)
      .map((r) => r.plugin);
  before(async () => {
    d = await TestDaemon.start();
    d.env.CEDANA_PLUGINS_DIR = join(d.dir, 'plugins');
    d.env.CEDANA_PLUGINS_REGISTRY = ''; // the local catalog
    await d.restart(); // with an empty plugins folder of its own
  });
  after(() => d?.stop());

  it('names the missing plugin and the command that installs it', async () => {
    const r = await d.cli(['dump', 'runc', '--id', 'c1']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /Error \[CEDANA_ERR_UNSUPPORTED_TYPE\]: runc plugin not installed: cedana plugin install runc/);
    assert.match(r.stderr, /hint: or add --install/);
    assert.doesNotMatch(r.stderr, /Unknown argument/);
    assert.deepEqual(await installed(), []);
  });

  it('with --install, installs it and runs the command', async () => {
    const r = await d.cli(['dump', 'runc', '--id', 'no-such-container', '--install']);
    assert.match(r.stderr, /runc plugin not installed: installing it \(--install\)/);
    assert.match(r.stdout, /installed runc \S+ \(@cedana\/plugin-runc\) from the local catalog/);
    assert.match(r.stderr, /daemon: runc \S+ loaded/);
    // The dump itself ran: the runc plugin, not the CLI, answers about the container.
    assert.doesNotMatch(r.stderr, /CEDANA_ERR_UNSUPPORTED_TYPE|Unknown argument/);
    assert.match(r.stderr, /CEDANA_ERR_CONTAINER_NOT_FOUND\]: runc: no container "no-such-container"/);
    assert.deepEqual(await installed(), ['runc']);
  });

  it('with config plugins.auto_install, installs it without being asked', async () => {
    const r = await d.cli(['dump', 'containerd', '--help'], { env: { CEDANA_PLUGINS_AUTO_INSTALL: 'true' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /containerd plugin not installed: installing it \(plugins\.auto_install\)/);
    assert.match(r.stdout, /cedana dump containerd/);
    assert.deepEqual((await installed()).sort(), ['containerd', 'runc']);
  });
});
