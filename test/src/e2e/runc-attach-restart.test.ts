/** Issue 13, item 6, for containers: an attachable runc container outlives a killed daemon, and attach works again after the restart. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { CLI, TestDaemon, waitFor } from '../harness/daemon.js';
import { containerId, makeBundle, removeAllContainers, runcState } from '../harness/runc.js';

let d: TestDaemon;
let root: string;
before(async () => {
  d = await TestDaemon.start();
  root = join(d.dir, 'runc-root');
});
after(async () => {
  removeAllContainers(root);
  await d.stop();
});

const lastTick = async (log: string) =>
  Math.max(0, ...[...(await readFile(log, 'utf8').catch(() => '')).matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));

it('an attachable container keeps running and writing its log while the daemon is down, and echoes through attach after the restart', async () => {
  const dir = join(d.dir, 'bundle');
  const script = '(i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done) & while read -r l; do echo "got $l"; done';
  await makeBundle(dir, { args: ['sh', '-c', script] });
  const id = containerId('att-restart');
  const jid = `runc-${id}`;
  const log = join(d.dir, 'container.log');
  await d.ok(['run', 'runc', '--bundle', dir, '--id', id, '--root', root, '--jid', jid, '--attachable', '--log', log]);
  await waitFor('ticks in the log', async () => ((await lastTick(log)) >= 3 ? true : undefined));

  await d.killDaemon();
  const at = await lastTick(log);
  await waitFor(`the log past tick ${at + 5} with no daemon`, async () => ((await lastTick(log)) > at + 5 ? true : undefined));
  assert.equal(runcState(root, id)?.status, 'running');

  await d.restart();
  const p = spawn(process.execPath, [CLI, 'attach', jid], { env: d.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (c) => (out += c));
  p.stdin.write('hello again\n');
  await waitFor(`the echo through attach (got: ${out.slice(-200)})`, () => (/got hello again\n/.test(out) ? true : undefined));
  p.kill('SIGINT');
  await new Promise((r) => p.on('close', r));
  await d.ok(['job', 'kill', jid]);
});
