/**
 * The manage handler: the daemon adopts a running "process" itself (it must be alive and
 * not protected); other types come from their plugin's ManageHandler, which may start
 * watching the job itself (Started) or leave res.pid for the daemon to watch.
 */
import { CedanaError, features, isAlive, type ManageHandlerFn, type Started } from '@cedana/core';
import { refuseProtectedPid } from '../process/protected-pids.js';

const manageProcess: ManageHandlerFn = async (_ctx, req) => {
  if (!req.pid || !(await isAlive(req.pid)))
    throw new CedanaError('CEDANA_ERR_PROCESS_NOT_FOUND', `no running process with PID ${req.pid}`);
  await refuseProtectedPid(req.pid, 'manage');
  return undefined;
};

const managePlugin: ManageHandlerFn = async (ctx, req, res) => {
  let started: Started | undefined;
  await features.ManageHandler.ifAvailable(async (_, handler) => {
    started = await handler(ctx, req, res);
  }, req.type);
  return started;
};

export function manageHandler(type: string): ManageHandlerFn {
  return type === 'process' ? manageProcess : managePlugin;
}
