import type { RestoreAdapter, RestoreIo } from '@cedana/core';
import type { ExternalMount } from './pid-namespace.js';

/** Streams that were connected to the daemon come back connected to it: the job is attachable again. */
export const inheritStdioForRestore: RestoreAdapter = (next) =>
  async function inheritStdioForRestore(ctx, req, res) {
    const io = ctx.manifest.io as RestoreIo | undefined;
    if (io && Object.keys(io).length > 0) {
      ctx.io = io;
      req.attachable = true;
    }
    if (ctx.manifest.shellJob === true) ctx.criu.shellJob = true;
    // A job in its own mount namespace gets the host's mounts bound where they were (process/pid-namespace.ts).
    const mounts = (ctx.manifest.externalMounts ?? []) as ExternalMount[];
    if (mounts.length > 0) ctx.criu.external = [...(ctx.criu.external ?? []), ...mounts.map((m) => `mnt[${m.key}]:${m.mountpoint}`)];
    return next(ctx, req, res);
  };
