/**
 * Restore: the middleware checks everything it can before anything is touched (the
 * checkpoint is a containerd one, containerd answers, the ID is free, the image is there),
 * and afterwards removes whatever a failed restore left; the final handler makes a new
 * container with the dumped spec, lays the writable layer onto its snapshot (--rootfs
 * checkpoints), and creates its task from the raw CRIU images (the runc shim's
 * Options.criu_image_path): the process goes on where it stopped.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CedanaError,
  criuErrorLines,
  criuHeadline,
  type RestoreAdapter,
  type RestoreContext,
  type RestoreReq,
  type RestoreResp,
  type Started,
  stateKey,
} from '@cedana/plugin-sdk';
import { Containerd } from './client.js';
import { createContainer, DEFAULT_SNAPSHOTTER, getContainer, removeContainer, startTask, watchTask } from './container.js';
import { assertIdentifier, containerdDetails, withContainerdDetails } from './details.js';
import { type DumpedContainer, SAVED_SPEC } from './dump.js';
import { restoreCriuConfig } from './flags.js';
import { type ResolvedImage, resolveImage } from './image.js';
import { applyRootfsDiff, ROOTFS_DIFF } from './rootfs.js';
import { type OciSpec, specForRestore, withCriuConfig } from './spec.js';
import { attachStdio, closeStdio, logStdio } from './stdio.js';

interface Target {
  cd: Containerd;
  address: string;
  namespace: string;
  id: string;
  image: ResolvedImage;
  snapshotter: string;
  spec: OciSpec;
  rootfs: boolean;
  attachable: boolean;
  /** Lines of the CRIU config file the restore needs (the options it repeats); empty: none. */
  criuConfig: string[];
  /** Set by the handler once the container exists. */
  instance?: string;
}

/** From the middleware to the handler of the same request. */
const TARGET = stateKey<Target>('containerd restore target');

export const prepareContainerdRestore: RestoreAdapter = (next) =>
  async function prepareContainerdRestore(ctx, req, res) {
    const dumped = ctx.section<DumpedContainer>();
    if (!dumped?.id) {
      const type = ctx.manifest.type && ctx.manifest.type !== 'containerd' ? ctx.manifest.type : 'process';
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        `checkpoint ${req.path} holds no containerd container: it was made by \`cedana dump ${type}\``,
        {
          hint: `restore it with \`cedana restore ${type} --path ${req.path}\``,
        },
      );
    }
    const d = containerdDetails(req.details);
    const id = d.id ?? dumped.id;
    assertIdentifier(id, 'container ID');
    const address = d.address ?? dumped.address;
    const namespace = d.namespace ?? dumped.namespace;
    const snapshotter = dumped.snapshotter || DEFAULT_SNAPSHOTTER;
    const cd = await Containerd.connect(address, namespace);
    let target: Target | undefined;
    try {
      if (await getContainer(cd, id)) {
        throw new CedanaError(
          'CEDANA_ERR_CONTAINER_EXISTS',
          `a container "${id}" exists already in containerd namespace ${namespace}: nothing was restored`,
          {
            hint: `restore under another ID (--id NEW_ID), or remove the old container first (\`ctr -n ${namespace} container rm ${id}\`)`,
          },
        );
      }
      const spec = JSON.parse(await readFile(join(ctx.imagesDir, SAVED_SPEC), 'utf8')) as OciSpec;
      const image = await resolveImage(cd, dumped.image, snapshotter);
      target = {
        cd,
        address,
        namespace,
        id,
        image,
        snapshotter,
        spec: specForRestore(spec, namespace, id),
        rootfs: dumped.rootfs,
        attachable: dumped.attachable === true,
        criuConfig: restoreCriuConfig(ctx.criu),
      };
      ctx.state.set(TARGET, target);
      const started = await next(ctx, req, res);
      // A container restored with its writable layer keeps it in later dumps of the job.
      req.details = withContainerdDetails(req.details, {
        address,
        namespace,
        id,
        image: dumped.image,
        snapshotter,
        rootfs: dumped.rootfs || undefined,
      });
      return started;
    } catch (err) {
      if (target?.instance) {
        await removeContainer(cd, id, target.instance).catch((e) =>
          ctx.log.error({ err: e, id }, 'could not remove the container of a failed restore'),
        );
      }
      throw err;
    } finally {
      cd.close();
    }
  };

/**
 * A new container with the dumped spec, its writable layer back (--rootfs), and its task
 * restored by CRIU through the runc shim; its output appended to the job's log.
 *
 * @throws CedanaError CEDANA_ERR_CONTAINERD_RESTORE (with CRIU's error lines), CEDANA_ERR_CONTAINER_EXISTS
 */
export async function containerdRestore(ctx: RestoreContext, req: RestoreReq, res: RestoreResp): Promise<Started> {
  ctx.signal.throwIfAborted();
  const t = ctx.state.get(TARGET);
  if (!t) throw new CedanaError('CEDANA_ERR_INTERNAL', 'the containerd RestoreHandler ran without its RestoreMiddleware');
  const jobLog = ctx.manifest.job?.log;
  const log = req.log || jobLog || `/var/log/cedana-output-${res.jid}.log`;
  const work = await mkdtemp(join(tmpdir(), 'cedana-containerd-'));
  let created: Awaited<ReturnType<typeof createContainer>>;
  try {
    // The CRIU options the restore repeats reach CRIU through a config file that runc passes on (flags.ts).
    const criuConfig = t.criuConfig.length > 0 ? join(work, 'criu.conf') : undefined;
    if (criuConfig) await writeFile(criuConfig, `${t.criuConfig.join('\n')}\n`);
    const spec = withCriuConfig(t.spec, criuConfig);
    created = await createContainer(t.cd, { id: t.id, image: t.image, snapshotter: t.snapshotter, spec });
    t.instance = created.instance;
    if (t.rootfs) await applyRootfsDiff(t.cd, join(ctx.imagesDir, ROOTFS_DIFF), created.mounts);
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
  const { mounts, instance } = created;
  // The restored process finds the same kind of stdio it had: the shim's pipes to FIFOs the daemon holds, or to the log.
  const stdio = t.attachable ? await attachStdio() : logStdio(log);
  let pid: number;
  try {
    pid = await startTask(t.cd, { id: t.id, mounts, stdio, criuImagePath: ctx.imagesDir, criuWorkPath: work });
  } catch (err) {
    await closeStdio(stdio);
    const criu = await criuErrorLines(join(work, 'restore.log'));
    const missingFile = !t.rootfs && criu.some((l) => /Can't open file .* on restore: No such file/.test(l));
    throw new CedanaError(
      'CEDANA_ERR_CONTAINERD_RESTORE',
      `could not restore container "${t.id}": ${criuHeadline(criu) ?? (err as Error).message}`,
      {
        details: [...criu, (err as Error).message],
        ...(missingFile
          ? {
              hint: 'the process had a file open that is not in the image: dump it again with --rootfs to keep its writable layer (the checkpoint is intact, nothing was left behind)',
            }
          : {}),
      },
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  res.pid = pid;
  ctx.log.info({ id: t.id, pid, namespace: t.namespace }, 'containerd restored the container');
  const id = t.id;
  return watchTask(t.address, t.namespace, id, pid, ctx.log, (w) => removeContainer(w, id, instance), stdio);
}
