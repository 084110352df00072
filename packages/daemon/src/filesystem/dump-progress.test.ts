import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { folderBytes, treeMemory } from './dump-progress.js';

describe('dump progress', () => {
  it('adds up the bytes CRIU wrote into the folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cedana-dump-progress-'));
    await writeFile(join(dir, 'pages-1.img'), Buffer.alloc(10000));
    await writeFile(join(dir, 'core-1.img'), 'abc');
    assert.equal(await folderBytes(dir), 10003);
    assert.equal(await folderBytes(join(dir, 'missing')), 0);
    await rm(dir, { recursive: true });
  });

  it("estimates the tree's memory from its anonymous pages, children included", async () => {
    // A grandchild holding 32 MiB of its own: the tree of the shell counts it.
    const perl = '$| = 1; my $a = "a" x (32 << 20); print "ready\\n"; sleep 60';
    const child = spawn('sh', ['-c', 'perl -e "$1" & wait', 'sh', perl], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    try {
      assert.ok((await treeMemory(child.pid as number)) >= 32 << 20, 'the shell and its perl child');
      assert.equal(await treeMemory(2 ** 22 + 1), 0, 'no such process');
    } finally {
      process.kill(-(child.pid as number));
    }
  });
});
