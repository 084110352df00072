/**
 * Checkpoints written before format 2 (plugins' facts at the top level of checkpoint.json)
 * are read in format 2's layout, in a folder and in an archive; a format this cedana does
 * not know is still refused.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CedanaError } from '@cedana/core';
import { packCheckpoint, unpackCheckpoint } from './archive.js';
import { MANIFEST_FILE, MANIFEST_FORMAT, verifyManifest, writeManifest } from './manifest.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const PAGES = Buffer.from('pages of a runc container');

/** checkpoint.json as cedana wrote it in format 1. */
const FORMAT_1 = {
  id: 'old1',
  pid: 4242,
  type: 'runc',
  compression: 'none',
  plugins: { criu: '0.1.0', runc: '0.1.0' },
  job: { jid: 'web', type: 'runc', log: '/var/log/web.log' },
  criuOptions: { shellJob: true },
  runc: { id: 'web', root: '', bundle: '/srv/web', needs: {}, version: '1.1.12' },
  criu: { version: '4.2', binary: '/usr/sbin/criu' },
  format: 1,
  createdAt: '2026-11-01T00:00:00.000Z',
  host: { cedana: '0.1.0', node: 'v20.0.0', kernel: '6.8', hostname: 'h' },
  files: { 'pages-1.img': { size: PAGES.length, sha256: sha256(PAGES) } },
};

describe('checkpoint.json of format 1', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-format1-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  async function oldFolder(name: string, manifest: object = FORMAT_1): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir);
    await writeFile(join(dir, 'pages-1.img'), PAGES);
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
    return dir;
  }

  it("is read from a folder with each plugin's facts as its section and the daemon's at the top", async () => {
    const m = await verifyManifest(await oldFolder('folder'));
    assert.equal(m.format, 1, 'the format it was written in');
    assert.deepEqual(m.sections, { runc: FORMAT_1.runc, criu: FORMAT_1.criu });
    assert.equal(m.job?.log, '/var/log/web.log');
    assert.deepEqual(m.criuOptions, { shellJob: true });
    assert.equal('runc' in m, false);
  });

  it('is read from an archive as it is unpacked', async () => {
    const dir = await oldFolder('archived');
    const packed = await packCheckpoint(dir, 'tar'); // keeps the old checkpoint.json as it is
    const m = await unpackCheckpoint(packed.path, join(root, 'unpacked'), { verify: true });
    assert.deepEqual(m.sections, { runc: FORMAT_1.runc, criu: FORMAT_1.criu });
  });

  it('is refused when its format is neither 1 nor this one, naming both', async () => {
    const dir = await oldFolder('future', { ...FORMAT_1, format: 99 });
    await assert.rejects(verifyManifest(dir), (err: CedanaError) => {
      assert.equal(err.code, 'CEDANA_ERR_CHECKPOINT_INVALID');
      assert.match(err.message, new RegExp(`checkpoint format 99 .* \\(formats 1, ${MANIFEST_FORMAT}\\)`));
      return true;
    });
  });

  it('is written in format 2 by this cedana, sections under `sections`', async () => {
    const dir = join(root, 'new');
    await mkdir(dir);
    await writeFile(join(dir, 'pages-1.img'), PAGES);
    await writeManifest(dir, { type: 'runc', sections: { runc: { id: 'web' } } });
    const written = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    assert.equal(written.format, 2);
    assert.deepEqual(written.sections, { runc: { id: 'web' } });
  });
});
