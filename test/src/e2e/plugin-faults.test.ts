/**
 * Errors with a place (issue 14): what plugin middleware throws is logged by the daemon with
 * its stack, and `cedana features --errors` / `--json` show it (plugin, feature, code, stack,
 * count), while the request fails naming the plugin and the job runs on.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestDaemon } from '../harness/daemon.js';
import { startWithPlugins } from '../harness/plugin-package.js';

const ENTRY = `function explode() { throw new Error('the disk of the hook is full'); }
export default {
  name: 'thrower',
  version: '1.0.0',
  appliesTo: '*',
  features: {
    DumpMiddleware: [(next) => async function throwBeforeDump(ctx, req, res) { explode(); return next(ctx, req, res); }],
  },
};
`;

interface Fault {
  plugin: string;
  symbol: string;
  code: string;
  message: string;
  stack: string;
  count: number;
}

describe('a plugin middleware that throws', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startWithPlugins({ plugin: 'thrower', entry: ENTRY });
  });
  after(() => d?.stop());

  it('fails the request naming the plugin, and leaves the job running', async () => {
    await d.ok(['run', 'process', '--jid', 'victim', '--', 'sleep', '300']);
    const r = await d.cli(['dump', 'job', 'victim', '--compression', 'none']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_FAILED\]: plugin "thrower" failed in DumpMiddleware: the disk of the hook is full/);
    const [job] = await d.json<{ state: { status: string } }[]>(['ps']);
    assert.equal(job?.state.status, 'running');
  });

  it('is in the daemon log with its stack', async () => {
    const log = await readFile(join(d.dir, 'daemon.log'), 'utf8');
    const line = log.split('\n').find((l) => l.includes('plugin thrower threw in DumpMiddleware'));
    assert.ok(line, 'a log line names the plugin and the feature');
    const entry = JSON.parse(line) as { plugin: string; feature: string; err: { stack: string } };
    assert.equal(entry.plugin, 'thrower');
    assert.match(entry.err.stack, /the disk of the hook is full\n\s+at explode \(file:\/\/.*thrower.*index\.js/);
  });

  it('is shown by features --json and --errors, with where it was thrown', async () => {
    await d.cli(['dump', 'job', 'victim', '--compression', 'none']); // a second time
    const { faults } = await d.json<{ faults: Fault[] }>(['features']);
    assert.equal(faults.length, 1, JSON.stringify(faults));
    const [f] = faults;
    assert.equal(f?.plugin, 'thrower');
    assert.equal(f?.symbol, 'DumpMiddleware');
    assert.equal(f?.code, 'CEDANA_ERR_PLUGIN_FAILED');
    assert.equal(f?.count, 2);
    assert.match(f?.stack ?? '', /at explode/);
    const text = await d.cli(['features', '--errors']);
    assert.match(
      text.stdout,
      /Thrown by plugin code while the daemon served requests:\nthrower DumpMiddleware \[CEDANA_ERR_PLUGIN_FAILED\] x2/,
    );
    assert.match(text.stdout, /\n {4}at explode \(file:/);
  });
});
