import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isAlive, processStartTime, processTree } from './proc.js';

/** Above the kernel's largest pid_max (2^22): never a live process. */
const NO_SUCH_PID = 2 ** 22 + 1;

describe('/proc readers', () => {
  const children: ChildProcess[] = [];
  let dir = '';
  function spawnSleep(args: string[], opts: { stdout?: boolean } = {}): ChildProcess {
    const child = spawn(args[0] ?? 'sleep', args.slice(1), { stdio: ['ignore', opts.stdout ? 'pipe' : 'ignore', 'ignore'] });
    children.push(child);
    return child;
  }
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives a stable start time for this process', async () => {
    const a = await processStartTime(process.pid);
    const b = await processStartTime(process.pid);
    assert.equal(typeof a, 'number');
    assert.ok(Number.isInteger(a) && (a ?? 0) > 0, `start time ${a}`);
    assert.equal(a, b);
  });

  it('gives another start time for a process started later', async () => {
    // The test process has been running for more than a clock tick by now.
    const child = spawnSleep(['sleep', '5']);
    await once(child, 'spawn');
    const own = await processStartTime(process.pid);
    const other = await processStartTime(child.pid ?? 0);
    assert.equal(typeof other, 'number');
    assert.notEqual(other, own);
    assert.ok((other ?? 0) > (own ?? 0));
  });

  it('reads the start time of a process whose name holds spaces and parentheses', async () => {
    // The command name comes from the executable's file name: run sleep under a tricky one.
    dir = await mkdtemp(join(tmpdir(), 'cedana-proc-'));
    const tricky = join(dir, 'x) 1 2 (y');
    await symlink('/bin/sleep', tricky);
    const child = spawnSleep([tricky, '5']);
    await once(child, 'spawn');
    assert.match(await readFile(`/proc/${child.pid}/stat`, 'utf8'), /\(x\) 1 2 \(y\)/);
    const own = await processStartTime(process.pid);
    const other = await processStartTime(child.pid ?? 0);
    assert.ok(Number.isInteger(other) && (other ?? 0) > (own ?? 0), `start time ${other}, own ${own}`);
  });

  it('says a live process is alive, and a PID that does not exist is not', async () => {
    assert.equal(await isAlive(process.pid), true);
    assert.equal(await isAlive(NO_SUCH_PID), false);
    assert.equal(await processStartTime(NO_SUCH_PID), undefined);
  });

  it('says a zombie is not alive', async () => {
    // sh backgrounds a child that exits after sh became `sleep`, which never reaps it
    // (a child that exited before the exec could still be reaped by sh itself).
    const parent = spawnSleep(['sh', '-c', 'sleep 0.3 & echo $!; exec sleep 10'], { stdout: true });
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const zombie = Number(line.toString().trim());
    assert.ok(zombie > 0);
    const deadline = Date.now() + 5000;
    while ((await isAlive(zombie)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await isAlive(zombie), false);
    assert.equal(typeof (await processStartTime(zombie)), 'number', 'the zombie still has a /proc entry');
  });

  it('gives a process tree with children and grandchildren, root first', async () => {
    // sh starts a sleep and a subshell holding its own sleep, then waits.
    const parent = spawnSleep(['sh', '-c', 'sleep 10 & (sleep 10 & echo $!; wait) & wait'], { stdout: true });
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const grandchild = Number(line.toString().trim());
    const tree = await processTree(parent.pid ?? 0);
    assert.equal(tree[0], parent.pid);
    assert.ok(tree.includes(grandchild), `the grandchild ${grandchild} is in ${tree.join(' ')}`);
    assert.equal(tree.length, 4, `sh, its sleep, the subshell and its sleep: ${tree.join(' ')}`);
    assert.deepEqual(await processTree(NO_SUCH_PID), [NO_SUCH_PID]);
    for (const pid of tree.slice(1)) process.kill(pid, 'SIGKILL');
  });
});
