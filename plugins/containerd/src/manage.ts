/** ManageHandler: `cedana manage containerd --id ID` makes a container whose task containerd runs a managed job. */
import type { ManageContext, ManageReq, ManageResp, Started } from '@cedana/plugin-sdk';
import { Containerd } from './client.js';
import { watchTask } from './container.js';
import { addressOf, containerdDetails, namespaceOf, requireId, withContainerdDetails } from './details.js';
import { runningTask } from './target.js';

/**
 * Adopts a running task: the job's PID is the task's init; its end comes from Tasks.Wait.
 * The container is containerd's (or its owner's): cedana does not remove it when the task
 * ends (a dump that ends the task removes it, as for every dumped container).
 *
 * @throws CedanaError CEDANA_ERR_CONTAINER_NOT_FOUND, CEDANA_ERR_CONTAINER_NOT_RUNNING,
 *   CEDANA_ERR_CONTAINERD_UNREACHABLE, CEDANA_ERR_INVALID_ARGUMENT
 */
export async function containerdManage(ctx: ManageContext, req: ManageReq, res: ManageResp): Promise<Started> {
  const d = containerdDetails(req.details);
  const id = requireId(d, 'manage');
  const address = addressOf(d);
  const namespace = namespaceOf(d);
  const cd = await Containerd.connect(address, namespace);
  try {
    const { container, task } = await runningTask(cd, id, 'managed');
    req.details = withContainerdDetails(req.details, {
      address,
      namespace,
      id,
      image: container.image,
      snapshotter: container.snapshotter,
      rootfs: d.rootfs,
    });
    res.pid = task.pid;
    ctx.log.info({ id, pid: task.pid, namespace }, 'managing containerd container');
    return await watchTask(address, namespace, id, task.pid, ctx.log);
  } finally {
    cd.close();
  }
}
