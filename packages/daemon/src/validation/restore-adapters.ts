import { CedanaError, type RestoreAdapter } from '@cedana/core';
import { assertLazyRestorable } from './lazy-restore.js';

/** Refuses a restore request that cannot work, before anything is touched. */
export const validateRestoreRequest: RestoreAdapter = (next) =>
  async function validateRestoreRequest(ctx, req, res) {
    if (!req.path) {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no checkpoint to restore: give --path, or restore a job that has a checkpoint');
    }
    if (req.lazy) await assertLazyRestorable(ctx.plugins, req);
    return next(ctx, req, res);
  };

/**
 * A checkpoint comes back as the type it was dumped as: CRIU restoring a container's
 * images as a plain process (or the other way round) cannot work and may do harm.
 * Checkpoints that do not say their type are let through.
 */
export const validateCheckpointTypeForRestore: RestoreAdapter = (next) =>
  async function validateCheckpointTypeForRestore(ctx, req, res) {
    const dumped = ctx.manifest.type;
    if (typeof dumped === 'string' && dumped !== '' && dumped !== req.type) {
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        `checkpoint ${req.path} was made by \`cedana dump ${dumped}\`, it cannot be restored as ${req.type === 'process' ? 'a process' : `type "${req.type}"`}`,
        { hint: `restore it with \`cedana restore ${dumped} --path ${req.path}\`` },
      );
    }
    return next(ctx, req, res);
  };
