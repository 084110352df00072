import type { RestoreAdapter } from '@cedana/core';

/** Streams that were connected to the daemon come back connected to it: the job is attachable again. */
export const inheritStdioForRestore: RestoreAdapter = (next) =>
  async function inheritStdioForRestore(ctx, req, res) {
    const io = ctx.manifest.io;
    if (io && Object.keys(io).length > 0) {
      ctx.io = io;
      req.attachable = true;
    }
    return next(ctx, req, res);
  };
