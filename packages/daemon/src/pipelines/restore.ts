/**
 * The restore pipeline. The order below is the order followed before the final
 * handler (the type's own, else the engine's: CRIU) runs.
 */
import { features, type PluginSource, type RestoreHandlerFn, withAdapters } from '@cedana/core';
import { checkMountSourcesForRestore, repeatCriuOptionsForRestore } from '../criu-options/restore-adapters.js';
import { fillMissingRestoreDefaults } from '../defaults/restore-adapters.js';
import { prepareRestoreDir } from '../filesystem/restore-adapters.js';
import { inheritStdioForRestore } from '../process/restore-adapters.js';
import { validateCheckpointTypeForRestore, validateRestoreRequest } from '../validation/restore-adapters.js';
import { gpuAdaptersForRestore } from './gpu-adapters.js';
import { pluginHandler, pluginMiddleware } from './plugin-adapters.js';
import { streamAdaptersForRestore } from './stream-adapters.js';

export function restorePipeline(plugins: PluginSource, type: string): RestoreHandlerFn {
  return withAdapters(
    pluginHandler(plugins, features.RestoreHandler, type), // the type's own, else the engine's
    fillMissingRestoreDefaults,
    validateRestoreRequest,
    prepareRestoreDir, // by now the images are verified and ctx.manifest is read
    validateCheckpointTypeForRestore,
    repeatCriuOptionsForRestore, // the dump's CRIU options (file locks, TCP, shell job, ...) under the request's
    checkMountSourcesForRestore, // every external mount it binds is on this host (a --pid-ns job names all it saw)

    ...pluginMiddleware(plugins, features.RestoreMiddleware, type),

    inheritStdioForRestore,

    gpuAdaptersForRestore, // GPU checkpoints only: CRIU restores, then the accelerator plugin restores the CUDA state
    streamAdaptersForRestore, // streamed checkpoints only: the streams plugin serves CRIU's --stream mode, innermost
  );
}
