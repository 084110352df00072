/** RunHandler: `cedana run containerd --image REF --id ID [-- CMD ARGS]` starts a container as a managed job. */
import { CedanaError, type RunContext, type RunReq, type RunResp, type Started } from '@cedana/plugin-sdk';
import { Containerd } from './client.js';
import { createContainer, DEFAULT_SNAPSHOTTER, removeContainer, startTask, watchTask } from './container.js';
import { addressOf, containerdDetails, namespaceOf, requireId, withContainerdDetails } from './details.js';
import { resolveImage } from './image.js';
import { commandOf, makeSpec } from './spec.js';
import { attachStdio, closeStdio, logStdio, type TaskStdio } from './stdio.js';

/**
 * Creates the container from the image (the command after `--`, else the image's) and
 * starts its task, its output appended to the job's log (or, attachable, held by the
 * daemon through FIFOs). On any failure nothing is left.
 *
 * @throws CedanaError CEDANA_ERR_INVALID_ARGUMENT, CEDANA_ERR_CONTAINERD_UNREACHABLE,
 *   CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND, CEDANA_ERR_CONTAINER_EXISTS, CEDANA_ERR_CONTAINERD_FAILED
 */
export async function containerdRun(ctx: RunContext, req: RunReq, res: RunResp): Promise<Started> {
  ctx.signal.throwIfAborted();
  const d = containerdDetails(req.details);
  const id = requireId(d, 'run');
  if (!d.image) throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no image: give `cedana run containerd --image REF --id ID`');
  const address = addressOf(d);
  const namespace = namespaceOf(d);
  const snapshotter = d.snapshotter ?? DEFAULT_SNAPSHOTTER;
  const cd = await Containerd.connect(address, namespace);
  try {
    const image = await resolveImage(cd, d.image, snapshotter);
    const args = req.process?.args ?? [];
    if (commandOf(image.config, args).length === 0) {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `image "${d.image}" names no command: give one after \`--\``);
    }
    const spec = makeSpec({ namespace, id, image: image.config, args, env: req.process?.env ?? [], cwd: req.process?.workingDir ?? '' });
    const { mounts, instance } = await createContainer(cd, { id, image, snapshotter, spec });
    let pid: number;
    let stdio: TaskStdio | undefined;
    try {
      stdio = req.attachable ? await attachStdio() : logStdio(req.log);
      pid = await startTask(cd, { id, mounts, stdio });
    } catch (err) {
      if (stdio) await closeStdio(stdio);
      await removeContainer(cd, id, instance).catch((e) => ctx.log.error({ err: e, id }, 'could not remove the container of a failed run'));
      throw err;
    }
    req.details = withContainerdDetails(req.details, { address, namespace, id, image: image.name, snapshotter, rootfs: d.rootfs });
    res.pid = pid;
    ctx.log.info({ id, pid, namespace, image: image.name }, 'containerd container started');
    return await watchTask(address, namespace, id, pid, ctx.log, (w) => removeContainer(w, id, instance), stdio);
  } finally {
    cd.close();
  }
}
