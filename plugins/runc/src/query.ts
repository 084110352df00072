/** QueryHandler: `cedana query runc [--root R]` lists the containers runc knows. */
import type { BaseContext, QueryReq } from '@cedana/plugin-sdk';
import { runcDetails } from './details.js';
import { locateRunc } from './runc-cli.js';
import { listContainers } from './state.js';

/** `{ containers: [{ id, pid, status, bundle, created }] }`: the CLI prints it as a table, or JSON with --json. */
export async function runcQuery(_ctx: BaseContext, req: QueryReq): Promise<Record<string, unknown>> {
  const d = runcDetails(req.details);
  const containers = await listContainers(await locateRunc(), d.root ?? '');
  return { containers: containers.map((c) => ({ id: c.id, pid: c.pid, status: c.status, bundle: c.bundle, created: c.created })) };
}
