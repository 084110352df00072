/**
 * The container's writable layer (`--rootfs`): at dump, containerd's Diff service compares
 * the container's snapshot with its parent (the image) and writes the changes as an OCI
 * layer tar into the content store, which is read into the checkpoint; at restore, the
 * tar goes back into the content store and Diff.Apply lays it onto the new container's
 * snapshot (whiteouts included). Both run under a lease, and the blobs are deleted after.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { CedanaError } from '@cedana/plugin-sdk';
import type { Containerd } from './client.js';
import { ContentService, WriteAction, type WriteContentRequest } from './proto/gen/containerd/services/content.js';
import { DiffService } from './proto/gen/containerd/services/diff.js';
import { SnapshotsService } from './proto/gen/containerd/services/snapshots.js';
import type { Mount } from './proto/gen/containerd/types/mount.js';

/** The file of the checkpoint that holds the writable layer. */
export const ROOTFS_DIFF = 'rootfs-diff.tar';
const LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
const CHUNK = 1024 * 1024;

/** Writes the changes of snapshot `key` against its parent to `file`; returns its size. */
export async function saveRootfsDiff(cd: Containerd, snapshotter: string, key: string, file: string): Promise<number> {
  return cd.withLease(async () => {
    const info = (await cd.call(SnapshotsService.stat, { snapshotter, key }, `find the snapshot of ${key}`)).info;
    const viewKey = `cedana-view-${randomBytes(6).toString('hex')}`;
    const lower = await cd.call(
      SnapshotsService.view,
      { snapshotter, key: viewKey, parent: info?.parent ?? '', labels: {} },
      'view the image layers',
    );
    try {
      const upper = await cd.call(SnapshotsService.mounts, { snapshotter, key }, `find the mounts of ${key}`);
      const diff = await cd.call(
        DiffService.diff,
        { left: lower.mounts, right: upper.mounts, mediaType: LAYER_TAR, ref: `cedana-rootfs-${viewKey}`, labels: {} },
        `compute the writable layer of ${key}`,
      );
      const desc = diff.diff;
      if (!desc) throw new CedanaError('CEDANA_ERR_CONTAINERD_FAILED', `containerd computed no diff of ${key}`);
      const out = createWriteStream(file);
      try {
        await cd.stream(ContentService.read, { digest: desc.digest, offset: 0, size: 0 }, `read the writable layer ${desc.digest}`, (m) =>
          out.write(m.data) ? undefined : new Promise<void>((r) => out.once('drain', () => r())),
        );
      } finally {
        out.end();
        await finished(out);
      }
      await cd.call(ContentService.delete, { digest: desc.digest }, 'delete the diff blob').catch(() => {});
      return desc.size;
    } finally {
      await cd.call(SnapshotsService.remove, { snapshotter, key: viewKey }, 'remove the view').catch(() => {});
    }
  });
}

/** Lays the layer tar `file` onto `mounts` (a new container's snapshot). */
export async function applyRootfsDiff(cd: Containerd, file: string, mounts: Mount[]): Promise<void> {
  const size = (await stat(file)).size;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const digest = `sha256:${hash.digest('hex')}`;
  await cd.withLease(async () => {
    await upload(cd, file, size, digest);
    try {
      await cd.call(
        DiffService.apply,
        { diff: { mediaType: LAYER_TAR, digest, size, annotations: {} }, mounts, payloads: {} },
        'apply the writable layer',
      );
    } finally {
      await cd.call(ContentService.delete, { digest }, 'delete the layer blob').catch(() => {});
    }
  });
}

/** Content.Write of a file: written in chunks, committed with its size and digest. */
async function upload(cd: Containerd, file: string, size: number, digest: string): Promise<void> {
  const ref = `cedana-upload-${randomBytes(6).toString('hex')}`;
  async function* requests(): AsyncGenerator<WriteContentRequest> {
    let offset = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
      const data = chunk as Buffer;
      yield { action: WriteAction.WRITE, ref, total: size, expected: digest, offset, data, labels: {} };
      offset += data.length;
    }
    yield { action: WriteAction.COMMIT, ref, total: size, expected: digest, offset, data: Buffer.alloc(0), labels: {} };
  }
  try {
    await cd.duplex(ContentService.write, requests(), 'store the writable layer');
  } catch (err) {
    if ((err as CedanaError).code === 'CEDANA_ERR_CONTAINER_EXISTS') return; // the same blob is there already
    throw err;
  }
}
