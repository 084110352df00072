/**
 * Dump: the middleware finds the container and its running task, sets `ctx.pid` to the
 * task's init and records what a restore needs; the final handler asks containerd to
 * checkpoint the task (Tasks.Checkpoint with the runc shim's CheckpointOptions): CRIU's raw
 * images go straight into the checkpoint folder (image_path), so containerd writes nothing
 * to its content store. That is also what makes repeated checkpoints work on containerd
 * 1.6 (see docs/containerd.md). With --rootfs the writable layer is saved first, while the
 * task is paused, so files and memory match.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CedanaError,
  criuErrorLines,
  criuHeadline,
  type DumpAdapter,
  type DumpContext,
  type DumpReq,
  type DumpResp,
  stateKey,
} from '@cedana/plugin-sdk';
import { Containerd } from './client.js';
import { getTask, RUNC_CHECKPOINT_OPTIONS_URL, removeContainer, statusName } from './container.js';
import { addressOf, containerdDetails, namespaceOf, requireId } from './details.js';
import { checkpointOptions } from './flags.js';
import { CheckpointOptions } from './proto/gen/containerd/runc/options.js';
import type { Container } from './proto/gen/containerd/services/containers.js';
import { TasksService } from './proto/gen/containerd/services/tasks.js';
import { VersionService } from './proto/gen/containerd/services/version.js';
import { Status } from './proto/gen/containerd/types/task.js';
import { ROOTFS_DIFF, saveRootfsDiff } from './rootfs.js';
import { runningTask } from './target.js';

/** The dumped container's OCI spec, kept in the checkpoint: the restored container gets it. */
export const SAVED_SPEC = 'containerd-spec.json';

/** What checkpoint.json says about the container, under `containerd`. */
export interface DumpedContainer {
  id: string;
  address: string;
  namespace: string;
  image: string;
  snapshotter: string;
  /** The checkpoint holds the writable layer (rootfs-diff.tar). */
  rootfs: boolean;
  /** containerd's version at the dump. */
  version?: string;
  /** The task's stdio were FIFOs the daemon held (an attachable job): its restore gets new ones. */
  attachable?: boolean;
}

interface Target {
  cd: Containerd;
  container: Container;
  rootfs: boolean;
}

/** From the middleware to the handler of the same request. */
const TARGET = stateKey<Target>('containerd dump target');

export const findContainerdTaskForDump: DumpAdapter = (next) =>
  async function findContainerdTaskForDump(ctx, req, res) {
    const d = containerdDetails(req.details);
    const id = requireId(d, 'dump');
    const address = addressOf(d);
    const namespace = namespaceOf(d);
    const cd = await Containerd.connect(address, namespace);
    try {
      const { container, task } = await runningTask(cd, id, 'dumped');
      if (!container.spec?.value.length) {
        throw new CedanaError('CEDANA_ERR_CONTAINER_UNSUPPORTED', `container "${id}" has no OCI spec: nothing to restore it from`);
      }
      ctx.pid = task.pid;
      const rootfs = d.rootfs === true;
      if (rootfs && !container.snapshotKey) {
        throw new CedanaError(
          'CEDANA_ERR_CONTAINER_UNSUPPORTED',
          `container "${id}" has no snapshot: there is no writable layer for --rootfs to keep`,
        );
      }
      const dumped: DumpedContainer = { id, address, namespace, image: container.image, snapshotter: container.snapshotter, rootfs };
      if (task.stdin) dumped.attachable = true;
      dumped.version = (await cd.call(VersionService.version, {}, 'tell its version').catch(() => undefined))?.version;
      ctx.setSection(dumped);
      ctx.stdioOwner = 'runtime'; // the task's stdio are the shim's pipes, not the daemon's
      ctx.state.set(TARGET, { cd, container, rootfs });
      return await next(ctx, req, res);
    } finally {
      cd.close();
    }
  };

/**
 * Tasks.Checkpoint into `ctx.imagesDir` (images, CRIU's dump.log). Without
 * --leave-running CRIU ends the task, and the task, the container and its snapshot are
 * removed (like `runc checkpoint`), so a restore may reuse the ID; on failure CRIU
 * resumes the task.
 *
 * @throws CedanaError CEDANA_ERR_CONTAINERD_DUMP (with CRIU's error lines),
 *   CEDANA_ERR_INVALID_ARGUMENT (a CRIU option the shim cannot pass)
 */
export async function containerdDump(ctx: DumpContext, _req: DumpReq, res: DumpResp): Promise<void> {
  ctx.signal.throwIfAborted();
  const t = ctx.state.get(TARGET);
  if (!t) throw new CedanaError('CEDANA_ERR_INTERNAL', 'the containerd DumpHandler ran without its DumpMiddleware');
  const { cd, container } = t;
  const id = container.id;
  const options = checkpointOptions(ctx.criu, ctx.imagesDir, ctx.imagesDir);
  await writeFile(join(ctx.imagesDir, SAVED_SPEC), container.spec?.value ?? Buffer.alloc(0));
  let paused = false;
  try {
    if (t.rootfs) {
      // Files and memory from the same instant: the task stays frozen from the diff to the dump.
      await cd.call(TasksService.pause, { containerId: id }, `pause ${id}`);
      paused = true;
      const size = await saveRootfsDiff(cd, container.snapshotter, container.snapshotKey, join(ctx.imagesDir, ROOTFS_DIFF));
      ctx.log.info({ id, size }, 'saved the writable layer');
    }
    await cd.call(
      TasksService.checkpoint,
      {
        containerId: id,
        parentCheckpoint: '',
        options: { typeUrl: RUNC_CHECKPOINT_OPTIONS_URL, value: Buffer.from(CheckpointOptions.encode(options).finish()) },
      },
      `checkpoint ${id}`,
      ctx.signal,
    );
  } catch (err) {
    const criu = await criuErrorLines(join(ctx.imagesDir, 'dump.log'));
    if (paused) await cd.call(TasksService.resume, { containerId: id }, `resume ${id}`).catch(() => {});
    const after = await getTask(cd, id).catch(() => undefined);
    const running = after?.status === Status.RUNNING;
    throw new CedanaError(
      'CEDANA_ERR_CONTAINERD_DUMP',
      `could not checkpoint container "${id}": ${criuHeadline(criu) ?? (err as Error).message}; ${running ? 'the task was left running' : `the task is ${after ? statusName(after.status) : 'gone'} now`}`,
      { details: [...criu, (err as Error).message] },
    );
  }
  if (options.exit) {
    await removeContainer(cd, id).catch((err) => {
      res.messages.push(`container ${id} was checkpointed, but could not be removed: ${(err as Error).message}`);
    });
  } else if (paused) {
    await cd.call(TasksService.resume, { containerId: id }, `resume ${id}`).catch(async (err) => {
      if ((await getTask(cd, id).catch(() => undefined))?.status === Status.RUNNING) return; // CRIU let it go already
      res.messages.push(
        `container ${id} was checkpointed but is still paused (${(err as Error).message}): \`ctr -n ${cd.namespace} task resume ${id}\``,
      );
    });
  }
  ctx.log.info({ id, pid: ctx.pid, imagesDir: ctx.imagesDir, exit: options.exit }, 'containerd checkpointed the task');
}
