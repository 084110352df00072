/** Finding the container a dump or manage is about, with a clear error for each way it can be missing. */
import { CedanaError } from '@cedana/plugin-sdk';
import type { Containerd } from './client.js';
import { getContainer, getTask, RUNTIME, statusName } from './container.js';
import type { Container } from './proto/gen/containerd/services/containers.js';
import { type Process, Status } from './proto/gen/containerd/types/task.js';

/**
 * The container `id` and its running task.
 *
 * @throws CedanaError CEDANA_ERR_CONTAINER_NOT_FOUND, CEDANA_ERR_CONTAINER_NOT_RUNNING,
 *   CEDANA_ERR_CONTAINER_UNSUPPORTED (not a runc v2 container)
 */
export async function runningTask(
  cd: Containerd,
  id: string,
  doing: 'dumped' | 'managed',
): Promise<{ container: Container; task: Process }> {
  const container = await getContainer(cd, id);
  if (!container) {
    throw new CedanaError('CEDANA_ERR_CONTAINER_NOT_FOUND', `no container "${id}" in namespace ${cd.namespace}`, {
      hint: `list the containers with \`cedana query containerd --namespace ${cd.namespace}\`; pass the --namespace (and --containerd-address) the container lives in`,
    });
  }
  const task = await getTask(cd, id);
  if (!task || task.status !== Status.RUNNING) {
    throw new CedanaError(
      'CEDANA_ERR_CONTAINER_NOT_RUNNING',
      `container "${id}" ${task ? `has a ${statusName(task.status)} task` : 'has no task'}: only a running task can be ${doing}`,
      { hint: `start its task first (\`ctr -n ${cd.namespace} task start ${id}\`); \`cedana query containerd\` shows each task's status` },
    );
  }
  const runtime = container.runtime?.name ?? '';
  if (runtime !== RUNTIME && runtime !== 'io.containerd.runc.v1') {
    throw new CedanaError(
      'CEDANA_ERR_CONTAINER_UNSUPPORTED',
      `container "${id}" runs under ${runtime || 'no runtime'}: cedana checkpoints runc containers (${RUNTIME})`,
      {
        hint: `create the container with --runtime ${RUNTIME}`,
      },
    );
  }
  return { container, task };
}
