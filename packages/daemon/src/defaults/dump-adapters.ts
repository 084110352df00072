import type { DumpAdapter } from '@cedana/core';
import { canStream } from '../pipelines/stream-adapters.js';
import { addressedByRole } from '../plugins/resolver.js';

/**
 * Fills what the request left out from the config: dir, compression, streams, type (and
 * moves details addressed to a role under the name of the plugin that fills it); and
 * ctx.pid from the request's PID (a job's or `dump process PID`), so that every plugin
 * middleware sees the PID of a process dump (a runtime plugin sets it for its own type).
 * The config's `checkpoint.streams` applies only where streams can be written: the final
 * handler is the engine's own (runtimes with handlers of their own run CRIU without its --stream mode) and the
 * compression is lz4 (or left out, and then it is lz4). An explicit --streams is left
 * for validation to judge.
 */
export const fillMissingDumpDefaults: DumpAdapter = (next) =>
  async function fillMissingDumpDefaults(ctx, req, res) {
    req.type ||= 'process';
    req.details = addressedByRole(ctx.plugins, req.details);
    ctx.pid ||= req.pid;
    req.dir ||= ctx.config['checkpoint.dir'];
    if (req.streams === undefined) {
      const lz4 = !req.compression || req.compression === 'lz4';
      req.streams = canStream(ctx.plugins, req.type) && lz4 ? ctx.config['checkpoint.streams'] : 0;
    }
    if (req.streams > 0) req.compression ||= 'lz4';
    req.compression ||= ctx.config['checkpoint.compression'];
    return next(ctx, req, res);
  };
