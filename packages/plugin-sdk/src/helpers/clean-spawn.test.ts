import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnClean } from './clean-spawn.js';

describe('spawnClean', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('gives the child its stdio entries beyond the first three', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clean-spawn-'));
    dirs.push(dir);
    const path = join(dir, 'given');
    const given = openSync(path, 'w');
    try {
      const child = spawnClean('sh', ['-c', 'readlink /proc/$$/fd/3'], { stdio: ['ignore', 'pipe', 'ignore', given] });
      let out = '';
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
      });
      await once(child, 'close');
      assert.equal(out.trim(), path);
    } finally {
      closeSync(given);
    }
  });

  it('keeps the PID and the exit status of the program', async () => {
    const child = spawnClean('sh', ['-c', 'echo $$; exit 7'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const [code] = await once(child, 'close');
    assert.equal(code, 7);
    assert.equal(Number(out.trim()), child.pid);
  });

  it('reports a program that does not exist as spawn does (ENOENT)', async () => {
    const child = spawnClean('/nonexistent/criu', ['--version'], { stdio: 'ignore' });
    const [err] = (await once(child, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ENOENT');
  });
});
