/**
 * The store's LevelDB files are open without close-on-exec, so a bare child_process.spawn
 * passes them on (issue 14: a job CRIU dumped with one fails to restore with `File
 * .../db/000003.log has bad size`). The SDK's spawnClean, which the daemon and the
 * first-party plugins start their helpers with (CRIU, runc, shims, the streamer), does not.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnClean } from '@cedana/plugin-sdk';
import { Store } from './store.js';

/** Where the fds of a shell started by `how` point. */
async function childFds(how: typeof spawn): Promise<string[]> {
  const child = how('sh', ['-c', 'for f in /proc/$$/fd/*; do readlink "$f"; done'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  await once(child, 'close');
  return out.split('\n').filter(Boolean);
}

describe("children and the store's files", () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-fds-'));
    store = await Store.open(join(dir, 'db'));
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a bare spawn passes the LevelDB files on (else this test could not tell)', async () => {
    assert.ok((await childFds(spawn)).some((t) => t.startsWith(join(dir, 'db'))));
  });

  it('a child started with spawnClean holds none of them, only its stdio', async () => {
    const fds = await childFds(spawnClean);
    assert.deepEqual(
      fds.filter((t) => t.startsWith(dir)),
      [],
    );
    assert.equal(fds.length, 3, fds.join(' '));
  });
});
