import type { DumpAdapter } from '@cedana/core';
import { canStream } from '../pipelines/stream-adapters.js';

/**
 * Fills what the request left out from the config: dir, compression, streams, type; and
 * ctx.pid from the request's PID (a job's or `dump process PID`), so that every plugin
 * middleware sees the PID of a process dump (a runtime plugin sets it for its own type).
 * The config's `checkpoint.streams` applies only where streams can be written: the final
 * handler is CRIU's own (runc and containerd run CRIU without its --stream mode) and the
 * compression is lz4 (or left out, and then it is lz4). An explicit --streams is left
 * for validation to judge.
 */
export const fillMissingDumpDefaults: DumpAdapter = (next) =>
  async function fillMissingDumpDefaults(ctx, req, res) {
    req.type ||= 'process';
    ctx.pid ||= req.pid;
    req.dir ||= ctx.config['checkpoint.dir'];
    if (req.streams === undefined) {
      const lz4 = !req.compression || req.compression === 'lz4';
      req.streams = canStream(req.type) && lz4 ? ctx.config['checkpoint.streams'] : 0;
    }
    if (req.streams > 0) req.compression ||= 'lz4';
    req.compression ||= ctx.config['checkpoint.compression'];
    return next(ctx, req, res);
  };
