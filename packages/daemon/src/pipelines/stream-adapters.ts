/**
 * Checkpoint streams (`--streams N`): the daemon knows only the stream count (the
 * request's, then checkpoint.json's section of the streams plugin). For a streamed dump
 * or restore these adapters splice in what the plugin in the "streams" role exports,
 * innermost, so it runs right around CRIU (which it feeds through CRIU's --stream mode).
 * Other requests pass straight through.
 */
import {
  type DumpAdapter,
  features,
  firstPartyFor,
  type ManifestFacts,
  type PluginSource,
  type RestoreAdapter,
  withAdapters,
} from '@cedana/core';
import { filling, requireRole } from '../plugins/resolver.js';
import { ownMiddleware } from './plugin-adapters.js';

/**
 * Whether a dump of `type` can be written as streams: its final handler is the engine's
 * own, which the streams plugin feeds through --stream. Runtimes that export their own
 * handlers run CRIU without it.
 */
export function canStream(plugins: PluginSource, type: string): boolean {
  return type === 'process' || features.DumpHandler.get(plugins, type) === undefined;
}

/**
 * The stream count a checkpoint was written with (0: not streamed), from the section of
 * the plugin in the streams role, or of a first-party one when none is loaded (so that a
 * streamed checkpoint is never restored without it).
 */
export function streamsOf(plugins: PluginSource, manifest: ManifestFacts): number {
  const owners = [filling(plugins, 'streams')?.name, ...firstPartyFor('streams')];
  const section = Object.entries(manifest.sections ?? {}).find(([name]) => owners.includes(name))?.[1];
  return Number((section as { streams?: unknown } | undefined)?.streams ?? 0) || 0;
}

export const streamAdaptersForDump: DumpAdapter = (next) =>
  async function streamAdaptersForDump(ctx, req, res) {
    if (!req.streams) return next(ctx, req, res);
    const streamer = requireRole(ctx.plugins, 'streams', `--streams ${req.streams}`);
    return withAdapters(next, ...ownMiddleware(ctx.plugins, features.DumpMiddleware, streamer.name))(ctx, req, res);
  };

export const streamAdaptersForRestore: RestoreAdapter = (next) =>
  async function streamAdaptersForRestore(ctx, req, res) {
    const asked = [filling(ctx.plugins, 'streams')?.name, 'streams'].some((key) => key !== undefined && key in (req.details ?? {}));
    if (!streamsOf(ctx.plugins, ctx.manifest) && !asked) return next(ctx, req, res);
    const serving = requireRole(ctx.plugins, 'streams', 'this checkpoint was written as streams: restoring it');
    return withAdapters(next, ...ownMiddleware(ctx.plugins, features.RestoreMiddleware, serving.name))(ctx, req, res);
  };
