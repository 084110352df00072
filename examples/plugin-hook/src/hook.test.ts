/** The example plugin's own tests: a real daemon with the plugin loaded, through the SDK's test kit. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestDaemon, type TestDaemon } from '@cedana/plugin-sdk/testing';

const plugin = new URL('..', import.meta.url);

/** A config file whose `plugins.hook` section is `section`. */
async function configWith(dir: string, section: Record<string, unknown>): Promise<string> {
  const file = join(dir, `config-${Object.keys(section).join('-') || 'none'}.json`);
  await writeFile(file, JSON.stringify({ plugins: { hook: section } }));
  return file;
}

describe('cedana-plugin-hook', () => {
  let d: TestDaemon;
  let dir: string;
  let trail: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cedana-hook-test-'));
    trail = join(dir, 'trail');
    const record = ['sh', '-c', `echo "$CEDANA_HOOK $CEDANA_PID" >> ${trail}`];
    const config = await configWith(dir, { pre_dump: record, post_restore: record });
    d = await startTestDaemon({ plugin, with: ['criu'], env: { CEDANA_CONFIG: config } });
  });
  after(async () => {
    await d?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads and exports DumpMiddleware and RestoreMiddleware', async () => {
    const matrix = await d.json<{ exports: { plugin: string; symbol: string; state: string }[] }>(['features', 'hook']);
    const exported = matrix.exports.filter((e) => e.plugin === 'hook' && e.state === 'exported').map((e) => e.symbol);
    assert.deepEqual(exported.sort(), ['DumpMiddleware', 'RestoreMiddleware']);
  });

  it('runs its pre-dump and post-restore hooks for a plain process job', async () => {
    await d.ok(['run', 'process', '--jid', 'hooked', '--', 'sleep', '300']);
    const [job] = await d.json<{ state: { pid: number } }[]>(['ps']);
    const pid = job?.state.pid;
    assert.ok(pid);
    const dumped = await d.cli(['dump', 'job', 'hooked', '--compression', 'none']);
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.match(dumped.stderr, new RegExp(`hook: pre-dump of PID ${pid} \\(process\\)`));
    const path = /^dumped .* to (\S+) \(/m.exec(dumped.stdout)?.[1];
    assert.ok(path, dumped.stdout);
    const manifest = JSON.parse(await readFile(join(path, 'checkpoint.json'), 'utf8')) as {
      sections: { hook?: { pid: number; command?: string } };
    };
    assert.equal(manifest.sections.hook?.pid, pid, "the plugin's section of checkpoint.json");
    assert.equal(manifest.sections.hook?.command, 'sh');

    const restored = await d.cli(['restore', 'job', 'hooked']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, new RegExp(`hook: restored PID ${pid} \\(dumped `));
    assert.deepEqual((await readFile(trail, 'utf8')).trim().split('\n'), [`pre-dump ${pid}`, `post-restore ${pid}`]);
  });
});

describe('cedana-plugin-hook with a pre-dump command that fails', () => {
  let d: TestDaemon;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cedana-hook-test-'));
    const config = await configWith(dir, { pre_dump: ['sh', '-c', 'echo not now >&2; exit 3'] });
    d = await startTestDaemon({ plugin, with: ['criu'], env: { CEDANA_CONFIG: config } });
  });
  after(async () => {
    await d?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the dump with CEDANA_ERR_PLUGIN_REFUSED and its own hint, and the job runs on', async () => {
    await d.ok(['run', 'process', '--jid', 'refused', '--', 'sleep', '300']);
    const r = await d.cli(['dump', 'job', 'refused', '--compression', 'none']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_REFUSED/);
    assert.match(r.stderr, /hook: the pre-dump command "sh" exited 3: not now/);
    assert.match(r.stderr, /hint: fix the command in plugins\.hook\.pre_dump/);
    const [job] = await d.json<{ state: { status: string } }[]>(['ps']);
    assert.equal(job?.state.status, 'running');
  });
});
