import type { RestoreAdapter } from '@cedana/core';
import { recordedCriuOptions, repeatCriuOptions } from './repeated.js';

// By now ctx.manifest is the checkpoint's checkpoint.json.

/**
 * Restores with the CRIU options the dump recorded (file locks, TCP connections, shell job,
 * ...), under the request's own: a flag the request set, on or off, wins.
 */
export const repeatCriuOptionsForRestore: RestoreAdapter = (next) =>
  async function repeatCriuOptionsForRestore(ctx, req, res) {
    const added = repeatCriuOptions(ctx.criu, req.criu, recordedCriuOptions(ctx.manifest));
    if (added.length > 0) ctx.log.info({ added }, 'restoring with the CRIU options the dump recorded');
    return next(ctx, req, res);
  };
