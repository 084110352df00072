/**
 * Checkpoint streams (`--streams N`): the daemon knows only the stream count (the
 * request's, then the streamer's section of checkpoint.json). For a streamed dump or restore
 * these adapters splice in what the plugin named "streamer" exports, innermost, so it
 * runs right around CRIU (which it feeds through CRIU's --stream mode). Other requests
 * pass straight through.
 */
import { CedanaError, type DumpAdapter, features, type ManifestFacts, type RestoreAdapter } from '@cedana/core';
import { pluginMiddleware, splice } from './plugin-adapters.js';

export const STREAMER_PLUGIN = 'streamer';

function missing(what: string): CedanaError {
  return new CedanaError('CEDANA_ERR_UNSUPPORTED_TYPE', `${what} needs the streamer plugin, which is not installed (or failed to load)`, {
    hint: 'install it with `cedana plugin install streamer`; `cedana features --errors` shows why a plugin did not load',
  });
}

/**
 * Whether a dump of `type` can be written as streams: its final handler is CRIU's own
 * (the criu plugin's), which the streamer feeds through --stream. runc and containerd
 * export their own handlers, which run CRIU without it.
 */
export function canStream(type: string): boolean {
  return type === 'process' || !features.DumpHandler.isAvailable(type);
}

/** The stream count a checkpoint was written with (0: not streamed). */
export function streamsOf(manifest: ManifestFacts): number {
  return Number((manifest.sections?.[STREAMER_PLUGIN] as { streams?: unknown } | undefined)?.streams ?? 0) || 0;
}

export const streamAdaptersForDump: DumpAdapter = (next) =>
  async function streamAdaptersForDump(ctx, req, res) {
    if (!req.streams) return next(ctx, req, res);
    if (!features.DumpMiddleware.isAvailable(STREAMER_PLUGIN)) throw missing(`--streams ${req.streams}`);
    return splice(next, await pluginMiddleware(features.DumpMiddleware, STREAMER_PLUGIN))(ctx, req, res);
  };

export const streamAdaptersForRestore: RestoreAdapter = (next) =>
  async function streamAdaptersForRestore(ctx, req, res) {
    const asked = STREAMER_PLUGIN in (req.details ?? {});
    if (!streamsOf(ctx.manifest) && !asked) return next(ctx, req, res);
    if (!features.RestoreMiddleware.isAvailable(STREAMER_PLUGIN)) throw missing('this checkpoint was written as streams: restoring it');
    return splice(next, await pluginMiddleware(features.RestoreMiddleware, STREAMER_PLUGIN))(ctx, req, res);
  };
