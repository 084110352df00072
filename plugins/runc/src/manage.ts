/** ManageHandler: `cedana manage runc --id ID` makes a container runc already runs a managed job. */
import type { ManageContext, ManageReq, ManageResp, Started } from '@cedana/plugin-sdk';
import { requireId, runcDetails, withRuncDetails } from './details.js';
import { locateRunc } from './runc-cli.js';
import { runningContainer } from './state.js';
import { watchContainer } from './watch.js';

/**
 * Adopts a running container: the job's PID is the container's init, watched through /proc
 * (it is nobody's child the daemon knows, so its exit code cannot be learnt).
 *
 * @throws CedanaError CEDANA_ERR_CONTAINER_NOT_FOUND, CEDANA_ERR_CONTAINER_NOT_RUNNING,
 *   CEDANA_ERR_RUNC_NOT_FOUND, CEDANA_ERR_INVALID_ARGUMENT
 */
export async function runcManage(ctx: ManageContext, req: ManageReq, res: ManageResp): Promise<Started> {
  const d = runcDetails(req.details);
  const id = requireId(d, 'manage');
  const root = d.root ?? '';
  const state = await runningContainer(await locateRunc(), root, id);
  req.details = withRuncDetails(req.details, { id, root, bundle: state.bundle });
  res.pid = state.pid;
  ctx.log.info({ id, pid: state.pid }, 'managing runc container');
  return watchContainer(state.pid);
}
