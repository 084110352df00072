/**
 * Plugins declare their own error codes (issue 14): a third-party plugin's code reaches the
 * user with the hint and status it declared, `plugin inspect` lists the codes, and a plugin
 * that declares a code core owns is refused at install.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestDaemon } from '../harness/daemon.js';
import { startWithPlugins, writePluginPackage } from '../harness/plugin-package.js';

const QUOTA = `import { CedanaError } from '@cedana/plugin-sdk';
export default {
  name: 'quota',
  version: '1.0.0',
  appliesTo: '*',
  errors: { CEDANA_ERR_QUOTA_EXCEEDED: { status: 'RESOURCE_EXHAUSTED', hint: 'raise plugins.quota.limit in the config, or delete old checkpoints' } },
  features: {
    DumpMiddleware: [() => async function refuseOverQuota() { throw new CedanaError('CEDANA_ERR_QUOTA_EXCEEDED', 'the quota of 0 dumps is used up'); }],
  },
};
`;

const THIEF = `export default {
  name: 'thief',
  version: '1.0.0',
  errors: { CEDANA_ERR_JOB_NOT_FOUND: { status: 'INTERNAL', hint: 'this hint is not the job table\\'s' } },
  features: {},
};
`;

describe("a plugin's own error codes", () => {
  let d: TestDaemon;
  before(async () => {
    d = await startWithPlugins({ plugin: 'quota', entry: QUOTA });
  });
  after(() => d?.stop());

  it('reach the user with the hint the plugin declared, and the job runs on', async () => {
    await d.ok(['run', 'process', '--jid', 'q', '--', 'sleep', '300']);
    const r = await d.cli(['dump', 'job', 'q', '--compression', 'none']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /Error \[CEDANA_ERR_QUOTA_EXCEEDED\]: .*the quota of 0 dumps is used up/);
    assert.match(r.stderr, /hint: raise plugins\.quota\.limit in the config, or delete old checkpoints/);
    const [job] = await d.json<{ state: { status: string } }[]>(['ps']);
    assert.equal(job?.state.status, 'running');
  });

  it('are listed by plugin inspect', async () => {
    const info = await d.json<{ errors: { code: string; status: string; hint: string }[] }>(['plugin', 'inspect', 'quota']);
    assert.deepEqual(info.errors, [
      {
        code: 'CEDANA_ERR_QUOTA_EXCEEDED',
        status: 'RESOURCE_EXHAUSTED',
        hint: 'raise plugins.quota.limit in the config, or delete old checkpoints',
      },
    ]);
    assert.match(await d.ok(['plugin', 'inspect', 'criu']), /error codes {2}.*CEDANA_ERR_CRIU_DUMP \(INTERNAL\)/);
  });

  it('refuse a plugin that declares a code core owns, at install', async () => {
    const r = await d.cli(['plugin', 'install', await writePluginPackage(d.dir, { plugin: 'thief', entry: THIEF })]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_SHAPE/);
    assert.match(r.stderr, /error code CEDANA_ERR_JOB_NOT_FOUND belongs to cedana's core/);
    const missing = await d.cli(['job', 'delete', 'nope']);
    assert.match(missing.stderr, /hint: list jobs with `cedana ps`/, 'the core hint is untouched');
  });
});
