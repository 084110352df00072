/** The example plugin's own tests: a real daemon with the plugin loaded, through the SDK's test kit. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { startTestDaemon, type TestDaemon } from '@cedana/plugin-sdk/testing';

describe('cedana-plugin-tag', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ plugin: new URL('..', import.meta.url), with: ['criu'] });
  });
  after(() => d?.stop());

  it('loads and exports DumpCmd, HelperCmds and DumpMiddleware', async () => {
    const matrix = await d.json<{ exports: { plugin: string; symbol: string; state: string }[] }>(['features', 'tag']);
    const exported = matrix.exports.filter((e) => e.plugin === 'tag' && e.state === 'exported').map((e) => e.symbol);
    assert.deepEqual(exported.sort(), ['DumpCmd', 'DumpMiddleware', 'HelperCmds']);
  });

  it('adds `cedana dump tag`, which checkpoints a process and records the label', async () => {
    await d.ok(['run', 'process', '--jid', 'sleeper', '--', 'sleep', '300']);
    const [job] = await d.json<{ state: { pid: number } }[]>(['ps']);
    assert.ok(job);
    const out = await d.ok([
      'dump',
      'tag',
      '--pid',
      String(job.state.pid),
      '--label',
      'nightly-1',
      '--compression',
      'none',
      '--leave-running',
    ]);
    const path = /dumped tag to (\S+) /.exec(out)?.[1];
    assert.ok(path, out);
    const manifest = JSON.parse(await readFile(join(path, 'checkpoint.json'), 'utf8')) as {
      type: string;
      sections: { tag: { label: string } };
    };
    assert.equal(manifest.type, 'tag');
    assert.equal(manifest.sections.tag.label, 'nightly-1', "the plugin's section of checkpoint.json");
    // picocolors colours its output when CI is set: compare the text without escapes.
    const shown = stripVTControlCharacters(await d.ok(['tag-show', path]));
    assert.match(shown, /nightly-1 \(tagged /);
  });

  it('refuses a bad label with the plugin named, and the daemon goes on serving', async () => {
    // its own --name: default names are unique to the second only
    const r = await d.cli(['dump', 'tag', '--pid', '1', '--label', 'not a label', '--name', 'bad-label']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_INVALID_ARGUMENT/);
    assert.match(r.stderr, /tag: label "not a label"/);
    await d.ok(['ps']);
  });
});
