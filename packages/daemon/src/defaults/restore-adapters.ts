import type { RestoreAdapter } from '@cedana/core';
import { addressedByRole } from '../plugins/resolver.js';

/** Fills what the request left out: type "process"; details addressed to a role go to the plugin that fills it. */
export const fillMissingRestoreDefaults: RestoreAdapter = (next) =>
  async function fillMissingRestoreDefaults(ctx, req, res) {
    req.type ||= 'process';
    req.details = addressedByRole(ctx.plugins, req.details);
    return next(ctx, req, res);
  };
