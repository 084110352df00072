import { availableParallelism } from 'node:os';
import { CedanaError, checkName, compressionOf, type DumpAdapter } from '@cedana/core';
import { canStream } from '../pipelines/stream-adapters.js';
import { requireRole } from '../plugins/resolver.js';

/** Refuses a dump request that cannot work, before anything is touched. */
export const validateDumpRequest: DumpAdapter = (next) =>
  async function validateDumpRequest(ctx, req, res) {
    if (req.type === 'process' && !req.pid) {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no PID to dump: give `cedana dump process PID` or `cedana dump job JID`');
    }
    if (req.name) checkName('checkpoint name', req.name); // one folder inside --dir, never ../x
    compressionOf(req.compression);
    const streams = req.streams ?? 0;
    if (streams < 0) throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `--streams must be 0 or more, found ${req.streams}`);
    const maxStreams = ctx.config['checkpoint.max_streams'];
    if (streams > maxStreams) {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `--streams must be at most ${maxStreams}, found ${streams}`, {
        hint: `a few streams per core is enough (this machine has ${availableParallelism()}); raise checkpoint.max_streams (CEDANA_CHECKPOINT_MAX_STREAMS) to allow more`,
      });
    }
    if (streams > 0) requireRole(ctx.plugins, 'streams', `--streams ${req.streams} (or dump with --streams 0)`);
    if (streams > 0 && req.compression !== 'none' && req.compression !== 'lz4') {
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        `--streams ${streams} writes lz4 streams, found --compression ${req.compression}`,
        {
          hint: 'use --compression lz4 (or leave it out) with --streams, or --streams 0 for other compressions',
        },
      );
    }
    if (streams > 0 && !canStream(ctx.plugins, req.type)) {
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        `--streams is not offered for ${req.type}: its plugin runs CRIU itself, without CRIU's --stream mode`,
        {
          hint: 'dump it with --streams 0 (compression still applies)',
        },
      );
    }
    return next(ctx, req, res);
  };
