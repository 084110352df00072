/**
 * GPU jobs: the daemon knows only that a job is GPU-enabled (`--gpu-enabled`, kept in the
 * job and in its checkpoints' checkpoint.json). For such a request these adapters splice in
 * what the plugin named "gpu" exports, after every other adapter (as `...gpuAdapters` in
 * DESIGN.md), so the GPU steps run right around the final handler:
 * run: GPUInterceptor; dump: its DumpMiddleware; restore: its RestoreMiddleware, then
 * GPUInterceptorRestore. Requests of jobs that are not GPU-enabled pass straight through.
 */
import { CedanaError, type DumpAdapter, features, type RestoreAdapter, type RunAdapter } from '@cedana/core';
import { pluginAdapter, pluginMiddleware, splice } from './plugin-adapters.js';

export const GPU_PLUGIN = 'gpu';

function missing(what: string): CedanaError {
  return new CedanaError('CEDANA_ERR_GPU_UNAVAILABLE', `${what}, but the gpu plugin is not installed (or failed to load)`, {
    hint: 'install it with `cedana plugin install gpu`; `cedana features --errors` shows why a plugin did not load',
  });
}

export const gpuAdaptersForRun: RunAdapter = (next) =>
  async function gpuAdaptersForRun(ctx, req, res) {
    if (!req.gpuEnabled) return next(ctx, req, res);
    const interceptor = await pluginAdapter(features.GPUInterceptor, GPU_PLUGIN);
    if (!interceptor) throw missing('the job asks for a GPU (--gpu-enabled)');
    return splice(next, [interceptor])(ctx, req, res);
  };

export const gpuAdaptersForDump: DumpAdapter = (next) =>
  async function gpuAdaptersForDump(ctx, req, res) {
    const job = ctx.manifest.job;
    if (!job?.gpuEnabled) {
      if (req.details && GPU_PLUGIN in req.details) {
        throw new CedanaError(
          'CEDANA_ERR_GPU_NOT_ENABLED',
          job?.jid
            ? `job "${job.jid}" was not started with --gpu-enabled: its GPU state cannot be checkpointed`
            : 'a GPU dump needs a job started with --gpu-enabled (GPU checkpoints are offered only for managed jobs)',
        );
      }
      return next(ctx, req, res);
    }
    if (!features.DumpMiddleware.isAvailable(GPU_PLUGIN)) throw missing(`job "${job.jid}" runs on a GPU (--gpu-enabled)`);
    return splice(next, await pluginMiddleware(features.DumpMiddleware, GPU_PLUGIN))(ctx, req, res);
  };

export const gpuAdaptersForRestore: RestoreAdapter = (next) =>
  async function gpuAdaptersForRestore(ctx, req, res) {
    const job = ctx.manifest.job;
    if (!job?.gpuEnabled) return next(ctx, req, res);
    const after = await pluginAdapter(features.GPUInterceptorRestore, GPU_PLUGIN);
    if (!after) throw missing(`the checkpoint of job "${job.jid}" holds a GPU process`);
    return splice(next, [...(await pluginMiddleware(features.RestoreMiddleware, GPU_PLUGIN)), after])(ctx, req, res);
  };
