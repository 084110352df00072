/** verifyManifestExcept (lazy restore): the files it leaves for later are size-checked at once, hashed by rest(). */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyManifestExcept, writeManifest } from './manifest.js';

describe('verifyManifestExcept', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-manifest-later-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  const isPages = (name: string) => name.startsWith('pages-');
  const checkpoint = async (name: string) => {
    const dir = join(root, name);
    await mkdir(dir);
    await writeFile(join(dir, 'core-1.img'), 'core');
    await writeFile(join(dir, 'pages-1.img'), 'pages pages');
    await writeManifest(dir, { id: name });
    return dir;
  };

  it('finds a changed page file only in rest()', async () => {
    const dir = await checkpoint('pages');
    await writeFile(join(dir, 'pages-1.img'), 'pages PAGES'); // same size
    const { manifest, rest } = await verifyManifestExcept(dir, isPages);
    assert.equal(manifest.id, 'pages');
    await assert.rejects(rest(), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /pages-1\.img does not match its xxh64 in checkpoint\.json at bytes 0-10/,
    });
  });

  it('refuses a changed file it does not leave for later, and a truncated one of those it does, at once', async () => {
    const core = await checkpoint('core');
    await writeFile(join(core, 'core-1.img'), 'CORE');
    await assert.rejects(verifyManifestExcept(core, isPages), { code: 'CEDANA_ERR_CHECKPOINT_INVALID', message: /core-1\.img/ });
    const short = await checkpoint('short');
    await writeFile(join(short, 'pages-1.img'), 'pages');
    await assert.rejects(verifyManifestExcept(short, isPages), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /pages-1\.img has 5 bytes/,
    });
  });

  it('passes an intact checkpoint, rest() included', async () => {
    const dir = await checkpoint('intact');
    const { rest } = await verifyManifestExcept(dir, isPages);
    await rest();
  });
});
