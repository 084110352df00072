import { CedanaError, type RestoreAdapter } from '@cedana/core';

/** Refuses a restore request that cannot work, before anything is touched. */
export const validateRestoreRequest: RestoreAdapter = (next) =>
  async function validateRestoreRequest(ctx, req, res) {
    if (!req.path) {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no checkpoint to restore: give --path, or restore a job that has a checkpoint');
    }
    return next(ctx, req, res);
  };
