/** The run pipeline: the daemon runs "process" jobs itself; other types come from their plugin. */
import { CedanaError, features, type PluginSource, type RunAdapter, type RunHandlerFn, withAdapters } from '@cedana/core';
import { runProcess } from '../process/run-handler.js';
import { gpuAdaptersForRun } from './gpu-adapters.js';
import { ownHandler, pluginMiddleware } from './plugin-adapters.js';

const validateRunRequest: RunAdapter = (next) =>
  async function validateRunRequest(ctx, req, res) {
    if (req.type === 'process' && !req.process?.args.length) {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no program to run: give it after `--`, e.g. `cedana run process -- sleep 60`');
    }
    return next(ctx, req, res);
  };

/** `--pid-ns`, else config `jobs.pid_namespace`, for processes; a runtime plugin's container has a PID namespace of its own already. */
const fillPidNamespaceForRun: RunAdapter = (next) =>
  async function fillPidNamespaceForRun(ctx, req, res) {
    if (req.type === 'process') req.pidNamespace ??= ctx.config['jobs.pid_namespace'];
    else if (req.pidNamespace === true) {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `--pid-ns applies to \`run process\`, not to type "${req.type}"`, {
        hint: 'a container runtime gives its containers their own PID namespace already: leave --pid-ns out',
      });
    } else req.pidNamespace = false;
    return next(ctx, req, res);
  };

export function runPipeline(plugins: PluginSource, type: string): RunHandlerFn {
  return withAdapters(
    type === 'process' ? runProcess : ownHandler(plugins, features.RunHandler, type),
    validateRunRequest,
    fillPidNamespaceForRun,
    ...pluginMiddleware(plugins, features.RunMiddleware, type),
    gpuAdaptersForRun,
  );
}
