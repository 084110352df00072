/**
 * Issue 13, item 6: an attachable job outlives the daemon. Its pipes are held by an I/O
 * holder, not by the daemon, so a daemon that is killed (or stopped) takes no job with it;
 * the restarted daemon re-attaches, and `cedana attach` works again.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, it } from 'node:test';
import { CLI, TestDaemon, waitFor } from '../harness/daemon.js';

interface JobJson {
  jid: string;
  state: { pid: number; status: string; exitCode?: number };
}

/** Counts on stdout in a background loop, echoes every stdin line, exits 7 on "quit". */
const ECHO_AND_COUNT = [
  'sh',
  '-c',
  '(i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done) & T=$!; ' +
    'while read -r l; do if [ "$l" = quit ]; then kill $T; exit 7; fi; echo "got $l"; done',
];

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  await d.stop();
});
// A test that failed with the daemon down leaves the next one a daemon.
afterEach(async () => {
  if ((await d.cli(['ps'])).code !== 0) await d.restart();
});

async function job(jid: string): Promise<JobJson | undefined> {
  return (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid);
}

async function lastTick(log: string): Promise<number> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return Math.max(0, ...[...text.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return true;
}

/** `cedana attach JID`, with a way to wait for its output and to type lines. */
function attach(jid: string): {
  p: ChildProcess;
  seen(re: RegExp): Promise<unknown>;
  type(line: string): void;
  code: Promise<number | null>;
} {
  const p = spawn(process.execPath, [CLI, 'attach', jid], { env: d.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout?.on('data', (c) => (out += c));
  p.stderr?.on('data', (c) => (err += c));
  const code = new Promise<number | null>((r) => p.on('close', r));
  return {
    p,
    seen: (re) => waitFor(`${re} from cedana attach ${jid} (out: ${out.slice(-300)} err: ${err})`, () => (re.test(out) ? true : undefined)),
    type: (line) => p.stdin?.write(`${line}\n`),
    code,
  };
}

for (const how of ['killed (SIGKILL)', 'stopped (SIGTERM)'] as const) {
  it(`an attachable job survives a daemon that is ${how}: attach after the restart echoes a line and ends with the exit code`, async () => {
    const jid = how.startsWith('killed') ? 'survive-kill' : 'survive-stop';
    const log = join(d.dir, `${jid}.log`);
    await d.ok(['run', 'process', '--jid', jid, '--attachable', '--log', log, '--', ...ECHO_AND_COUNT]);
    await waitFor('the first ticks in the log', async () => ((await lastTick(log)) >= 3 ? true : undefined));
    const before = attach(jid);
    before.type('one');
    await before.seen(/got one\n/);
    before.p.kill('SIGINT');
    await before.code;

    const { pid } = (await job(jid))?.state ?? { pid: 0 };
    if (how.startsWith('killed')) await d.killDaemon();
    else await d.stopDaemonOnly();
    const at = await lastTick(log);
    await waitFor(`${log} past tick ${at + 5} while the daemon is down`, async () => ((await lastTick(log)) > at + 5 ? true : undefined));
    assert.ok(isRunning(pid), `the job (PID ${pid}) is still running with no daemon`);

    await d.restart();
    assert.equal((await job(jid))?.state.status, 'running');
    const after = attach(jid);
    await after.seen(/tick \d+\n/); // the scrollback, then live output
    after.type('two');
    await after.seen(/got two\n/);
    after.type('quit');
    assert.equal(await after.code, 7, 'attach ends with the exit code of the job');
    const ended = await waitFor('the job marked exited', async () => {
      const j = await job(jid);
      return j?.state.status === 'exited' ? j : undefined;
    });
    assert.equal(ended.state.exitCode, 7);
    const text = await readFile(log, 'utf8');
    assert.match(text, /got one\n[\s\S]*got two\n/, 'the log has the output from before and after the restart');
  });
}

it('knows the exit code of an attachable job that ended while the daemon was down', async () => {
  const jid = 'end-while-down';
  const flag = join(d.dir, `${jid}.flag`);
  await d.ok([
    'run',
    'process',
    '--jid',
    jid,
    '--attachable',
    '--',
    'sh',
    '-c',
    `while [ ! -e ${flag} ]; do sleep 0.1; done; echo bye; exit 5`,
  ]);
  const { pid } = (await job(jid))?.state ?? { pid: 0 };
  await d.killDaemon();
  await writeFile(flag, '');
  await waitFor(`the job (PID ${pid}) to end`, () => (isRunning(pid) ? undefined : true));
  await d.restart();
  const ended = await waitFor('the job marked exited', async () => {
    const j = await job(jid);
    return j?.state.status === 'exited' ? j : undefined;
  });
  assert.equal(ended.state.exitCode, 5);
});

it('dumps and restores an attachable job across a daemon restart, and the restored job survives one too', async () => {
  const jid = 'cr-restart';
  const log = join(d.dir, `${jid}.log`);
  await d.ok(['run', 'process', '--jid', jid, '--attachable', '--log', log, '--', ...ECHO_AND_COUNT]);
  await waitFor('the first ticks in the log', async () => ((await lastTick(log)) >= 3 ? true : undefined));
  await d.killDaemon();
  await d.restart();
  await d.ok(['dump', 'job', jid]);
  const atDump = await lastTick(log);
  await d.ok(['restore', 'job', jid]);
  await waitFor(`ticks past ${atDump} after the restore`, async () => ((await lastTick(log)) > atDump + 3 ? true : undefined));

  await d.killDaemon();
  const at = await lastTick(log);
  await waitFor(`${log} past tick ${at + 5} while the daemon is down`, async () => ((await lastTick(log)) > at + 5 ? true : undefined));
  await d.restart();
  const a = attach(jid);
  a.type('after restore');
  await a.seen(/got after restore\n/);
  a.type('quit');
  assert.equal(await a.code, 7);
});
