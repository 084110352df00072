/** QueryHandler: `cedana query containerd [--namespace N]` lists containers (with their tasks) and images. */
import type { BaseContext, QueryReq } from '@cedana/plugin-sdk';
import { Containerd } from './client.js';
import { statusName } from './container.js';
import { addressOf, containerdDetails, namespaceOf } from './details.js';
import { listImages } from './image.js';
import { ContainersService } from './proto/gen/containerd/services/containers.js';
import { TasksService } from './proto/gen/containerd/services/tasks.js';

/** `{ containers: [{ id, image, pid, status, runtime }], images: [{ name, digest }] }`: tables for people, JSON with --json. */
export async function containerdQuery(_ctx: BaseContext, req: QueryReq): Promise<Record<string, unknown>> {
  const d = containerdDetails(req.details);
  const cd = await Containerd.connect(addressOf(d), namespaceOf(d));
  try {
    const [containers, tasks, images] = await Promise.all([
      cd.call(ContainersService.list, { filters: [] }, 'list containers'),
      cd.call(TasksService.list, { filter: '' }, 'list tasks'),
      listImages(cd),
    ]);
    const byId = new Map(tasks.tasks.map((t) => [t.containerId || t.id, t]));
    return {
      containers: containers.containers.map((c) => {
        const t = byId.get(c.id);
        return {
          id: c.id,
          image: c.image,
          pid: t?.pid ?? null,
          status: t ? statusName(t.status) : 'no task',
          runtime: c.runtime?.name ?? '',
        };
      }),
      images: images.map((i) => ({ name: i.name, digest: i.digest })),
    };
  } finally {
    cd.close();
  }
}
