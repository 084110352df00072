/** An attachable job: its output reaches `cedana attach`, also after a restore. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, it } from 'node:test';
import { attachUntil } from '../harness/attach.js';
import { CLI, TestDaemon, waitFor } from '../harness/daemon.js';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  await d.stop();
});

it('streams output to attach before and after a restore, and Ctrl+C only detaches', async () => {
  const script = 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done';
  await d.ok(['run', 'process', '--jid', 'att', '--attachable', '--', 'sh', '-c', script]);
  const first = await attachUntil(d, 'att', /tick 5\n/);
  assert.equal(first.code, 0, 'detaching exits 0');
  const ps = await d.json<{ jid: string; state: { status: string } }[]>(['ps']);
  assert.equal(ps.find((j) => j.jid === 'att')?.state.status, 'running', 'the job goes on after detach');

  await d.ok(['dump', 'job', 'att']);
  await d.ok(['restore', 'job', 'att']);
  const lastBefore = Math.max(...[...first.out.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
  const second = await attachUntil(d, 'att', new RegExp(`tick ${lastBefore + 30}\\n`));
  assert.match(second.out, /tick \d+/);
  await d.ok(['job', 'kill', 'att']);
});

it('passes stdin through and ends with the job exit code', async () => {
  await d.ok(['run', 'process', '--jid', 'cat', '--attachable', '--', 'sh', '-c', 'read line; echo "got $line"; exit 3']);
  const r = await new Promise<{ out: string; code: number | null }>((resolve) => {
    const p = spawn(process.execPath, [CLI, 'attach', 'cat'], { env: d.env, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stdin.write('hello\n');
    p.on('close', (code) => resolve({ out, code }));
  });
  assert.match(r.out, /got hello/);
  assert.equal(r.code, 3);
  await waitFor('exited', async () => {
    const j = (await d.json<{ jid: string; state: { status: string; exitCode?: number } }[]>(['ps'])).find((x) => x.jid === 'cat');
    return j?.state.status === 'exited' ? j : undefined;
  });
});
