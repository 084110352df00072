/** Cleanup: when a containerd job is deleted, the container cedana made for it goes too, unless its task still runs. */
import type { Job } from '@cedana/plugin-sdk';
import { Containerd } from './client.js';
import { getContainer, getTask, INSTANCE_LABEL, removeContainer } from './container.js';
import { addressOf, containerdDetails, namespaceOf } from './details.js';
import { Status } from './proto/gen/containerd/types/task.js';

/** Never throws for what is already gone, or when containerd is not running; containers cedana did not make are left alone. */
export async function containerdCleanup(job: Job): Promise<void> {
  const d = containerdDetails(job.details);
  if (!d.id) return;
  const cd = await Containerd.connect(addressOf(d), namespaceOf(d)).catch(() => undefined);
  if (!cd) return;
  try {
    const c = await getContainer(cd, d.id);
    if (!c?.labels[INSTANCE_LABEL]) return;
    const task = await getTask(cd, d.id);
    if (task && task.status !== Status.STOPPED) return;
    await removeContainer(cd, d.id, c.labels[INSTANCE_LABEL]);
  } finally {
    cd.close();
  }
}
