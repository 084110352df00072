import { CedanaError, COMPRESSIONS, type Compression, type DumpAdapter, features } from '@cedana/core';

/** Refuses a dump request that cannot work, before anything is touched. */
export const validateDumpRequest: DumpAdapter = (next) =>
  async function validateDumpRequest(ctx, req, res) {
    if (req.type === 'process' && !req.pid) {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no PID to dump: give `cedana dump process PID` or `cedana dump job JID`');
    }
    if (!COMPRESSIONS.includes(req.compression as Compression)) {
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        `unknown compression "${req.compression}": expected one of ${COMPRESSIONS.join(', ')}`,
      );
    }
    const streams = req.streams ?? 0;
    if (streams < 0) throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `--streams must be 0 or more, found ${req.streams}`);
    if (streams > 0 && !features.DumpMiddleware.isAvailable('streamer')) {
      throw new CedanaError('CEDANA_ERR_UNSUPPORTED_TYPE', `--streams ${req.streams} needs the streamer plugin, which is not installed`, {
        hint: 'install it with `cedana plugin install streamer`, or dump with --streams 0',
      });
    }
    return next(ctx, req, res);
  };
