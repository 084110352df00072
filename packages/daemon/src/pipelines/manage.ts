/**
 * The manage handler: the daemon adopts a running "process" itself (it must be alive and
 * not protected); other types come from their plugin's ManageHandler, which may start
 * watching the job itself (Started) or leave res.pid for the daemon to watch.
 */
import { CedanaError, features, isAlive, type ManageHandlerFn, type PluginSource } from '@cedana/core';
import { refuseProtectedPid } from '../process/protected-pids.js';
import { ownHandler } from './plugin-adapters.js';

const manageProcess: ManageHandlerFn = async (_ctx, req) => {
  if (!req.pid || !(await isAlive(req.pid)))
    throw new CedanaError('CEDANA_ERR_PROCESS_NOT_FOUND', `no running process with PID ${req.pid}`);
  await refuseProtectedPid(req.pid, 'manage');
  return undefined;
};

export function manageHandler(plugins: PluginSource, type: string): ManageHandlerFn {
  return type === 'process' ? manageProcess : ownHandler(plugins, features.ManageHandler, type);
}
