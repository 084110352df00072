/**
 * Images, read through containerd's Images and Content services: the image's manifest
 * (chosen from an index for this platform), its config (command, environment, working
 * folder) and the chain ID of its layers, which names the committed snapshot a
 * container's rootfs is prepared from.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CedanaError } from '@cedana/plugin-sdk';
import { type Containerd, isNotFound } from './client.js';
import { ContentService } from './proto/gen/containerd/services/content.js';
import { DiffService } from './proto/gen/containerd/services/diff.js';
import { ImagesService } from './proto/gen/containerd/services/images.js';
import { SnapshotsService } from './proto/gen/containerd/services/snapshots.js';
import type { Descriptor } from './proto/gen/containerd/types/descriptor.js';

/** The parts of an OCI image config a container needs. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: { Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; User?: string };
  rootfs?: { type?: string; diff_ids?: string[] };
}

export interface ResolvedImage {
  name: string;
  /** Digest of the manifest used. */
  manifest: string;
  config: ImageConfig;
  /** The snapshot (in `snapshotter`) holding the image's unpacked layers. */
  chainId: string;
  /** The layers, and the diff ID (uncompressed digest) of each. */
  layers: { desc: Descriptor; diffId: string }[];
  /** False when the layers are not unpacked for the snapshotter yet (createContainer unpacks them). */
  unpacked: boolean;
}

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
/** A manifest or config larger than this is not one (the content store holds layers too). */
const MAX_JSON = 4 * 1024 * 1024;

/**
 * The image `ref` in the connection's namespace: its config, layers and chain ID, and
 * whether it is unpacked in `snapshotter`.
 *
 * @throws CedanaError CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND (no such image, or a broken one)
 */
export async function resolveImage(cd: Containerd, ref: string, snapshotter: string): Promise<ResolvedImage> {
  let image: Awaited<ReturnType<typeof getImage>> | undefined;
  for (const name of new Set([ref, normalizeRef(ref)])) {
    image = await getImage(cd, name);
    if (image) break;
  }
  if (!image) {
    throw new CedanaError('CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND', `no image "${ref}" in namespace ${cd.namespace}`, {
      hint: `list the images with \`cedana query containerd --namespace ${cd.namespace}\` (full names, such as docker.io/library/busybox:latest); import or pull it into that namespace first`,
    });
  }
  ref = image.image?.name || ref;
  let target = image.image?.target;
  if (!target) throw new CedanaError('CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND', `image "${ref}" has no target descriptor`);
  if (INDEX_TYPES.includes(target.mediaType)) {
    const index = (await readJson(cd, target)) as { manifests?: (Descriptor & { platform?: { os?: string; architecture?: string } })[] };
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const chosen =
      index.manifests?.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ??
      index.manifests?.find((m) => !m.platform) ??
      index.manifests?.[0];
    if (!chosen) throw new CedanaError('CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND', `image "${ref}" lists no manifest for linux/${arch}`);
    target = chosen;
  }
  const manifest = (await readJson(cd, target)) as { config?: Descriptor; layers?: Descriptor[] };
  if (!manifest.config) throw new CedanaError('CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND', `the manifest of image "${ref}" names no config`);
  const config = (await readJson(cd, manifest.config)) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  const chainId = chainIdOf(diffIds);
  const layers = (manifest.layers ?? []).map((desc, i) => ({
    desc: { ...desc, annotations: desc.annotations ?? {} },
    diffId: diffIds[i] ?? '',
  }));
  if (layers.length !== diffIds.length) {
    throw new CedanaError(
      'CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND',
      `image "${ref}" is broken: its manifest has ${layers.length} layers, its config ${diffIds.length}`,
    );
  }
  const unpacked = await cd.call(SnapshotsService.stat, { snapshotter, key: chainId }, `find the unpacked layers of ${ref}`).then(
    () => true,
    (err) => {
      if (isNotFound(err)) return false;
      throw err;
    },
  );
  return { name: ref, manifest: target.digest, config, chainId, layers, unpacked };
}

/**
 * Unpacks the image's layers into `snapshotter` (what `ctr image pull` does): each layer
 * applied (Diff.Apply, which decompresses) onto a snapshot of the ones below it, committed
 * under its chain ID. Call it inside a lease; the container's snapshot then keeps the
 * chain from garbage collection.
 */
export async function unpackImage(cd: Containerd, image: ResolvedImage, snapshotter: string): Promise<void> {
  let parent = '';
  for (let i = 0; i < image.layers.length; i++) {
    const layer = image.layers[i] as ResolvedImage['layers'][number];
    const chain = chainIdOf(image.layers.slice(0, i + 1).map((l) => l.diffId));
    const exists = await cd.call(SnapshotsService.stat, { snapshotter, key: chain }, 'find a layer').then(
      () => true,
      (err) => {
        if (isNotFound(err)) return false;
        throw err;
      },
    );
    if (!exists) {
      const key = `cedana-extract-${randomBytes(6).toString('hex')} ${chain}`;
      const prepared = await cd.call(
        SnapshotsService.prepare,
        { snapshotter, key, parent, labels: {} },
        `prepare layer ${i + 1} of ${image.name}`,
      );
      try {
        const applied = await cd.call(
          DiffService.apply,
          { diff: layer.desc, mounts: prepared.mounts, payloads: {} },
          `unpack layer ${layer.desc.digest}`,
        );
        if (applied.applied?.digest !== layer.diffId) {
          throw new CedanaError(
            'CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND',
            `layer ${layer.desc.digest} of image "${image.name}" unpacks to ${applied.applied?.digest}, not its diff ID ${layer.diffId}`,
          );
        }
        await cd
          .call(SnapshotsService.commit, { snapshotter, name: chain, key, labels: {} }, `commit layer ${i + 1} of ${image.name}`)
          .catch((err) => {
            if ((err as CedanaError).code !== 'CEDANA_ERR_CONTAINER_EXISTS') throw err; // unpacked meanwhile by someone else
          });
      } finally {
        await cd.call(SnapshotsService.remove, { snapshotter, key }, 'remove the unpacking snapshot').catch(() => {});
      }
    }
    parent = chain;
  }
}

function getImage(cd: Containerd, name: string) {
  return cd.call(ImagesService.get, { name }, `find image ${name}`).catch((err) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
}

/**
 * A short reference as docker and nerdctl read it: `busybox` is docker.io/library/busybox:latest,
 * `me/app:1` is docker.io/me/app:1 (containerd itself knows images only by their full name).
 */
export function normalizeRef(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const hasDomain = first.includes('.') || first.includes(':') || first === 'localhost';
  let name = hasDomain ? ref : slash < 0 ? `docker.io/library/${ref}` : `docker.io/${ref}`;
  const last = name.slice(name.lastIndexOf('/') + 1);
  if (!last.includes(':')) name += ':latest';
  return name;
}

/** The OCI chain ID of a stack of layers: sha256 of "parent diff" per layer. */
export function chainIdOf(diffIds: string[]): string {
  if (diffIds.length === 0) throw new CedanaError('CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND', 'the image has no layers');
  let chain = diffIds[0] as string;
  for (const d of diffIds.slice(1)) chain = `sha256:${createHash('sha256').update(`${chain} ${d}`).digest('hex')}`;
  return chain;
}

/** A blob of the content store, parsed as JSON. */
async function readJson(cd: Containerd, d: Descriptor): Promise<unknown> {
  if (d.size > MAX_JSON) throw new CedanaError('CEDANA_ERR_CONTAINERD_FAILED', `blob ${d.digest} (${d.mediaType}) is too large to be JSON`);
  const chunks: Buffer[] = [];
  await cd.stream(ContentService.read, { digest: d.digest, offset: 0, size: 0 }, `read ${d.digest}`, (m) => {
    chunks.push(Buffer.from(m.data));
    return undefined;
  });
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new CedanaError('CEDANA_ERR_CONTAINERD_FAILED', `blob ${d.digest} (${d.mediaType}) is not JSON: ${(err as Error).message}`);
  }
}

/** The images of the namespace: name, digest of the target, size of the target. */
export async function listImages(cd: Containerd): Promise<{ name: string; digest: string; mediaType: string }[]> {
  const res = await cd.call(ImagesService.list, { filters: [] }, 'list images');
  return res.images.map((i) => ({ name: i.name, digest: i.target?.digest ?? '', mediaType: i.target?.mediaType ?? '' }));
}
