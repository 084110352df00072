/**
 * A file whose reader checks it piece by piece as it reads it (FileDigest.chunkDigests:
 * the streamer's shards, against the sha256 of each chunk in img-index.json) is not hashed
 * by verifyManifest; its size still is checked, and so is the file holding its digests.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CheckpointManifest, MANIFEST_FILE, MANIFEST_FORMAT, verifyManifest } from './manifest.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('verifyManifest and files checked as they are read (chunkDigests)', () => {
  let root: string;
  const shard = Buffer.from('the stored chunks of a shard');
  const index = Buffer.from('{"format":2}');
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-chunk-digests-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  /** A folder checkpoint of img-0.lz4 (holding `onDisk`) and img-index.json, its checkpoint.json listing `shard`. */
  const folder = async (name: string, onDisk: Buffer, digestsIn = 'img-index.json', indexOnDisk = index) => {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'img-0.lz4'), onDisk);
    await writeFile(join(dir, 'img-index.json'), indexOnDisk);
    const manifest = {
      format: MANIFEST_FORMAT,
      sections: {},
      createdAt: new Date(0).toISOString(),
      host: { cedana: '0', node: '0', kernel: '0', hostname: 'h' },
      files: {
        'img-0.lz4': { size: shard.length, sha256: sha256(shard), chunkDigests: digestsIn },
        'img-index.json': { size: index.length, sha256: sha256(index) },
      },
    } as CheckpointManifest;
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
    return dir;
  };

  it('does not hash such a file up front: a changed byte is left to its reader, which finds it as it reads', async () => {
    const changed = Buffer.from(shard);
    changed[3] = (changed[3] as number) ^ 0xff;
    const m = await verifyManifest(await folder('changed', changed));
    assert.equal(m.files['img-0.lz4']?.chunkDigests, 'img-index.json');
  });

  it('still checks its size', async () => {
    await assert.rejects(verifyManifest(await folder('short', shard.subarray(1))), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /checkpoint file img-0\.lz4 has \d+ bytes, expected \d+/,
    });
  });

  it('hashes the file holding the digests', async () => {
    await assert.rejects(verifyManifest(await folder('index', shard, 'img-index.json', Buffer.from('{"format":3}'))), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /checkpoint file img-index\.json does not match its sha256/,
    });
  });

  it('hashes it whole when the digests are said to be in a file the checkpoint does not list', async () => {
    const changed = Buffer.from(shard);
    changed[3] = (changed[3] as number) ^ 0xff;
    await assert.rejects(verifyManifest(await folder('unlisted', changed, 'elsewhere.json')), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /checkpoint file img-0\.lz4 does not match its sha256/,
    });
  });
});
