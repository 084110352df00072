import type { DumpAdapter } from '@cedana/core';

/** Fills what the request left out from the config: dir, compression, streams, type. */
export const fillMissingDumpDefaults: DumpAdapter = (next) =>
  async function fillMissingDumpDefaults(ctx, req, res) {
    req.type ||= 'process';
    req.dir ||= ctx.config['checkpoint.dir'];
    req.compression ||= ctx.config['checkpoint.compression'];
    req.streams ??= ctx.config['checkpoint.streams'];
    return next(ctx, req, res);
  };
