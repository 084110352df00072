import { CedanaError, type RestoreAdapter } from '@cedana/core';
import { missingMountSources } from './mount-sources.js';
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

/** How many missing mounts a message names; the details list them all. */
const NAMED = 3;

/**
 * Refuses a process restore whose external mounts (`mnt[KEY]:PATH`, the dump's and the
 * request's) name a PATH this host does not have, before anything starts: the checkpoint is
 * untouched, and the message says which mounts this host lacks (mount-sources.ts).
 */
export const checkMountSourcesForRestore: RestoreAdapter = (next) =>
  async function checkMountSourcesForRestore(ctx, req, res) {
    if ((req.type || 'process') !== 'process') return next(ctx, req, res);
    const missing = await missingMountSources(ctx.criu.external);
    if (missing.length > 0) {
      const named = missing.slice(0, NAMED).map((m) => m.path);
      const more = missing.length > NAMED ? ` and ${missing.length - NAMED} more` : '';
      throw new CedanaError(
        'CEDANA_ERR_MOUNT_MISSING',
        `cannot restore ${req.path}: it binds ${missing.length === 1 ? 'a mount' : `${missing.length} mounts`} of this host, expected at ${named.join(', ')}${more}, found no such path here; the checkpoint is untouched`,
        { details: missing.map((m) => `mnt[${m.key}]:${m.path}: no such path on this host`) },
      );
    }
    return next(ctx, req, res);
  };
