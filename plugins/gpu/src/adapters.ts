/**
 * The GPU steps around CRIU. The daemon splices these into the run, dump and restore
 * pipelines of jobs started with --gpu-enabled (and of their checkpoints), after every
 * other adapter, so CRIU always sees a plain CPU process.
 *
 * - GPUInterceptor (run): refuses to start a GPU job on a machine that cannot checkpoint it.
 * - gpuDump (DumpMiddleware): lock, checkpoint (CUDA state to host memory), CRIU dump, and
 *   with --leave-running restore, unlock. Any failure puts the process back on its GPU.
 * - gpuRestoreCheck (RestoreMiddleware): refuses before CRIU runs when the GPU is not there.
 * - GPUInterceptorRestore: CRIU restores, then restore, unlock.
 */
import { CedanaError, type DumpAdapter, type RestoreAdapter, type RunAdapter } from '@cedana/plugin-sdk';
import { type Probe, probe, rollback, type Step, step } from './tool.js';

/** The probe, refused unless it found everything a GPU checkpoint needs. */
async function usable(signal: AbortSignal | undefined, what: string): Promise<Required<Pick<Probe, 'cudaCheckpoint' | 'mode'>> & Probe> {
  const p = await probe(signal);
  if (p.problems.length || !p.cudaCheckpoint || !p.mode) {
    throw new CedanaError('CEDANA_ERR_GPU_UNAVAILABLE', `${what}: ${p.problems.map((x) => x.message).join('; ')}`, {
      hint: p.problems.map((x) => x.fix).join('; '),
    });
  }
  return p as Required<Pick<Probe, 'cudaCheckpoint' | 'mode'>> & Probe;
}

export const GPUInterceptor: RunAdapter = (next) =>
  async function gpuRunCheck(ctx, req, res) {
    const p = await usable(ctx.signal, 'cannot run a GPU job (--gpu-enabled) here');
    res.messages.push(
      `GPU job: ${p.gpus.length} GPU(s), driver ${p.driver}, cuda-checkpoint ${p.mode === 'action' ? 'lock/checkpoint/restore/unlock' : '--toggle'}`,
    );
    return next(ctx, req, res);
  };

export const gpuDump: DumpAdapter = (next) =>
  async function gpuDump(ctx, req, res) {
    const p = await usable(ctx.signal, 'cannot checkpoint the GPU state');
    const { cudaCheckpoint: tool, mode } = p;
    const pid = ctx.pid;
    const done: Step[] = [];
    const doStep = async (s: Step) => {
      ctx.log.debug({ pid, step: s }, 'cuda-checkpoint');
      await step(tool, mode, s, pid);
      done.push(s);
    };
    const fail = async (err: unknown, where: string): Promise<never> => {
      const after = await rollback(tool, mode, pid);
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof CedanaError && err.code !== 'CEDANA_ERR_GPU_CHECKPOINT') {
        err.message = `${msg} (GPU: ${after})`;
        throw err;
      }
      throw new CedanaError('CEDANA_ERR_GPU_CHECKPOINT', `GPU dump failed at ${where}: ${msg}; the process was left running: ${after}`);
    };
    try {
      if (mode === 'action') {
        await doStep('lock');
        await doStep('checkpoint');
      } else await doStep('checkpoint'); // --toggle: lock + checkpoint
    } catch (err) {
      await fail(err, `step "${done.length ? 'checkpoint' : mode === 'action' ? 'lock' : 'checkpoint'}"`);
    }
    ctx.setSection({ driver: p.driver, gpus: p.gpus.map((g) => g.name), interface: mode, steps: [...done] });
    try {
      await next(ctx, req, res);
    } catch (err) {
      await fail(err, 'the CRIU dump');
    }
    if (ctx.criu.leaveRunning) {
      try {
        if (mode === 'action') {
          await doStep('restore');
          await doStep('unlock');
        } else await doStep('restore');
      } catch (err) {
        await fail(err, `step "${done.at(-1) === 'restore' ? 'unlock' : 'restore'}" after the dump (the checkpoint is complete)`);
      }
    }
  };

export const gpuRestoreCheck: RestoreAdapter = (next) =>
  async function gpuRestoreCheck(ctx, req, res) {
    await usable(ctx.signal, 'cannot restore a GPU checkpoint here');
    return next(ctx, req, res);
  };

export const GPUInterceptorRestore: RestoreAdapter = (next) =>
  async function gpuRestore(ctx, req, res) {
    const p = await usable(ctx.signal, 'cannot restore a GPU checkpoint here');
    const { cudaCheckpoint: tool, mode } = p;
    const started = await next(ctx, req, res);
    const pid = started.pid;
    let current: Step = 'restore';
    try {
      await step(tool, mode, 'restore', pid);
      if (mode === 'action') {
        current = 'unlock';
        await step(tool, mode, 'unlock', pid);
      }
    } catch (err) {
      const after = await rollback(tool, mode, pid);
      // A restored process without its GPU state cannot go on: end it, the checkpoint stays for a retry.
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
      await started.exited;
      throw new CedanaError(
        'CEDANA_ERR_GPU_CHECKPOINT',
        `GPU restore failed at step "${current}" after CRIU restored PID ${pid}: ${(err as Error).message} (${after}); the restored process was killed, the checkpoint is untouched`,
      );
    }
    res.messages.push(`restored the CUDA state of PID ${pid} (${mode === 'action' ? 'restore, unlock' : '--toggle'})`);
    return started;
  };
