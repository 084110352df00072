/**
 * The restore pipeline. The order below is the order followed before the final
 * handler (CRIU, from the criu plugin) runs.
 */
import { features, type RestoreHandlerFn, withAdapters } from '@cedana/core';
import { repeatCriuOptionsForRestore } from '../criu-options/restore-adapters.js';
import { fillMissingRestoreDefaults } from '../defaults/restore-adapters.js';
import { prepareRestoreDir } from '../filesystem/restore-adapters.js';
import { inheritStdioForRestore } from '../process/restore-adapters.js';
import { validateCheckpointTypeForRestore, validateRestoreRequest } from '../validation/restore-adapters.js';
import { gpuAdaptersForRestore } from './gpu-adapters.js';
import { pluginHandler, pluginMiddleware } from './plugin-adapters.js';
import { streamAdaptersForRestore } from './stream-adapters.js';

export async function restorePipeline(type: string): Promise<RestoreHandlerFn> {
  return withAdapters(
    await pluginHandler(features.RestoreHandler, type, 'criu'),
    fillMissingRestoreDefaults,
    validateRestoreRequest,
    prepareRestoreDir, // by now the images are verified and ctx.manifest is read
    validateCheckpointTypeForRestore,
    repeatCriuOptionsForRestore, // the dump's CRIU options (file locks, TCP, shell job, ...) under the request's

    ...(await pluginMiddleware(features.RestoreMiddleware, type)),

    inheritStdioForRestore,

    gpuAdaptersForRestore, // GPU checkpoints only: CRIU restores, then the gpu plugin restores the CUDA state
    streamAdaptersForRestore, // streamed checkpoints only: the streamer serves CRIU's --stream mode, innermost
  );
}
