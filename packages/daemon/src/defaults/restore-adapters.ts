import type { RestoreAdapter } from '@cedana/core';

/** Fills what the request left out: type "process". */
export const fillMissingRestoreDefaults: RestoreAdapter = (next) =>
  async function fillMissingRestoreDefaults(ctx, req, res) {
    req.type ||= 'process';
    return next(ctx, req, res);
  };
