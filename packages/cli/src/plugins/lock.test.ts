import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STAGING_DIR, TRASH_DIR, withPluginsLock } from './lock.js';

describe('withPluginsLock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cedana-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses while a live process holds the lock, naming it', async () => {
    const holder = spawn('sleep', ['30']);
    try {
      await writeFile(join(dir, '.lock'), String(holder.pid));
      await assert.rejects(
        withPluginsLock(dir, async () => {}),
        { code: 'CEDANA_ERR_PLUGIN_BUSY', message: new RegExp(`PID ${holder.pid}`) },
      );
    } finally {
      holder.kill();
    }
  });

  it('takes over the lock of a process that died, and clears what it left half done', async () => {
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    await writeFile(join(dir, '.lock'), String(dead.pid));
    await mkdir(join(dir, STAGING_DIR, 'criu-9.9.9-abcd'), { recursive: true });
    await mkdir(join(dir, TRASH_DIR, 'x'), { recursive: true });
    const seen = await withPluginsLock(dir, async () => readdir(dir));
    assert.deepEqual(seen, ['.lock']);
    assert.deepEqual(await readdir(dir), []);
  });
});
