/**
 * A restore repeats the CRIU options of its dump (issue 13, item 7), here --shell-job: a
 * process that is not its session's leader is dumped with it (detected), and CRIU refuses to
 * restore it without. The dump records it in checkpoint.json's `criuOptions`; a checkpoint
 * made before that section existed has it as the top-level fact `shellJob`, and restores too.
 * (File locks: zdtm.test.ts, with CRIU's own file_locks00.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Checkpoint } from '@cedana/core/proto';
import { counterScript, lastCount, waitForCount } from '../harness/counter.js';
import { TestDaemon } from '../harness/daemon.js';
import { rewriteAsFormat1 } from '../harness/format1.js';

describe('restore repeats the dump’s --shell-job', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  /**
   * A counter that is not its session's leader (a shell job), managed as `jid` and dumped. The
   * leader is a shell this test starts in a session of its own, so it is in the test's PID
   * namespace: CRIU refuses a task whose session leader it cannot see at all (under CI the
   * test's own session may have been made in a parent namespace).
   */
  async function dumpedShellJob(jid: string, compression = 'lz4'): Promise<{ file: string; atDump: number; ck: Checkpoint }> {
    const file = join(d.dir, `${jid}.count`);
    const leader = spawn('sh', ['-c', '"$@" & echo $!; wait', 'leader', ...counterScript(file)], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    leader.unref();
    const [line] = (await once(leader.stdout, 'data')) as [Buffer];
    leader.stdout.destroy();
    const pid = Number.parseInt(line.toString(), 10);
    await waitForCount(file, 2);
    await d.ok(['manage', 'process', '--pid', String(pid), '--jid', jid]);
    await d.ok(['dump', 'job', jid, '--compression', compression]);
    const [ck] = await d.json<Checkpoint[]>(['checkpoints', jid]);
    assert.ok(ck, 'the dump made a checkpoint');
    return { file, atDump: await lastCount(file), ck };
  }

  it('records it in checkpoint.json and restores with it', async () => {
    const { file, atDump, ck } = await dumpedShellJob('shell-job');
    const inspected = await d.json<{ manifest: { criuOptions?: Record<string, unknown> } }>(['checkpoint', 'inspect', ck.id]);
    assert.deepEqual(inspected.manifest.criuOptions, { shellJob: true });

    await d.ok(['restore', 'job', 'shell-job']);
    await waitForCount(file, atDump + 2);
    await d.ok(['job', 'kill', 'shell-job']);
  });

  it('--no-shell-job overrides it (CRIU refuses, the checkpoint stays); an old checkpoint with the top-level fact restores', async () => {
    const { file, atDump, ck } = await dumpedShellJob('old-shell-job', 'none');
    const r = await d.cli(['restore', 'job', 'old-shell-job', '--no-shell-job']);
    assert.equal(r.code, 1, 'CRIU cannot restore a shell job without --shell-job');
    assert.match(r.stderr, /CEDANA_ERR_/);

    // checkpoint.json as cedana wrote it before the criuOptions section (format 1: the criu plugin's facts at the top level).
    const old = await rewriteAsFormat1(ck.path, ({ criuOptions, ...rest }) => {
      assert.deepEqual(criuOptions, { shellJob: true });
      return { ...rest, shellJob: true, tcpEstablished: false };
    });
    assert.equal(typeof (old.criu as { version?: string }).version, 'string');

    await d.ok(['restore', 'job', 'old-shell-job']);
    await waitForCount(file, atDump + 2);
    await d.ok(['job', 'kill', 'old-shell-job']);
  });
});
