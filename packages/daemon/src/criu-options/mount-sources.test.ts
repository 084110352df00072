import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { missingMountSources } from './mount-sources.js';

describe('missingMountSources', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cedana-mount-sources-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the external mounts whose path is not on this host, and only mounts', async () => {
    const external = [`mnt[here]:${dir}`, `mnt[gone]:${join(dir, 'cpu')}`, 'file[1f:2a]'];
    assert.deepEqual(await missingMountSources(external), [{ key: 'gone', path: join(dir, 'cpu') }]);
  });

  it('finds nothing missing when every path exists', async () => {
    assert.deepEqual(await missingMountSources([`mnt[a]:${dir}`, 'mnt[b]:/']), []);
  });
});
