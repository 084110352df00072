/**
 * GPU jobs: the daemon knows only that a job is GPU-enabled (`--gpu-enabled`, kept in the
 * job and in its checkpoints' checkpoint.json). For such a request these adapters splice in
 * what the plugin in the "accelerator" role exports, after every other adapter (as
 * `...gpuAdapters` in DESIGN.md), so the GPU steps run right around the final handler:
 * run: GPUInterceptor; dump: its DumpMiddleware; restore: its RestoreMiddleware, then
 * GPUInterceptorRestore. Requests of jobs that are not GPU-enabled pass straight through.
 */
import { CedanaError, type DumpAdapter, features, type RestoreAdapter, type RunAdapter, withAdapters } from '@cedana/core';
import { filling, requireRole } from '../plugins/resolver.js';
import { ownMiddleware, pluginAdapter } from './plugin-adapters.js';

export const gpuAdaptersForRun: RunAdapter = (next) =>
  async function gpuAdaptersForRun(ctx, req, res) {
    if (!req.gpuEnabled) return next(ctx, req, res);
    const gpu = requireRole(ctx.plugins, 'accelerator', 'the job asks for a GPU (--gpu-enabled)');
    const interceptor = pluginAdapter(ctx.plugins, features.GPUInterceptor, gpu.name);
    return withAdapters(next, ...(interceptor ? [interceptor] : []))(ctx, req, res);
  };

export const gpuAdaptersForDump: DumpAdapter = (next) =>
  async function gpuAdaptersForDump(ctx, req, res) {
    const job = ctx.manifest.job;
    if (!job?.gpuEnabled) {
      const asked = [filling(ctx.plugins, 'accelerator')?.name, 'accelerator'].some(
        (key) => key !== undefined && key in (req.details ?? {}),
      );
      if (asked) {
        throw new CedanaError(
          'CEDANA_ERR_GPU_NOT_ENABLED',
          job?.jid
            ? `job "${job.jid}" was not started with --gpu-enabled: its GPU state cannot be checkpointed`
            : 'a GPU dump needs a job started with --gpu-enabled (GPU checkpoints are offered only for managed jobs)',
        );
      }
      return next(ctx, req, res);
    }
    const gpu = requireRole(ctx.plugins, 'accelerator', `job "${job.jid}" runs on a GPU (--gpu-enabled)`);
    return withAdapters(next, ...ownMiddleware(ctx.plugins, features.DumpMiddleware, gpu.name))(ctx, req, res);
  };

export const gpuAdaptersForRestore: RestoreAdapter = (next) =>
  async function gpuAdaptersForRestore(ctx, req, res) {
    const job = ctx.manifest.job;
    if (!job?.gpuEnabled) return next(ctx, req, res);
    const gpu = requireRole(ctx.plugins, 'accelerator', `the checkpoint of job "${job.jid}" holds a GPU process`);
    const after = pluginAdapter(ctx.plugins, features.GPUInterceptorRestore, gpu.name);
    return withAdapters(next, ...ownMiddleware(ctx.plugins, features.RestoreMiddleware, gpu.name), ...(after ? [after] : []))(
      ctx,
      req,
      res,
    );
  };
