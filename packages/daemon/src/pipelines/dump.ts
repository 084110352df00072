/**
 * The dump pipeline. The order below is the order followed before the final
 * handler (CRIU, from the criu plugin) runs.
 */
import { type DumpHandlerFn, features, withAdapters } from '@cedana/core';
import { recordCriuOptionsForDump } from '../criu-options/dump-adapters.js';
import { fillMissingDumpDefaults } from '../defaults/dump-adapters.js';
import { prepareDumpDirWith } from '../filesystem/dump-adapters.js';
import { type DumpIntent, NO_INTENT } from '../jobs/dump-journal.js';
import { detectNetworkOptionsForDump } from '../network/dump-adapters.js';
import {
  addExternalFilesForDump,
  detectPidNamespaceForDump,
  detectShellJobForDump,
  fillProcessStateForDump,
} from '../process/dump-adapters.js';
import { refuseProtectedPidForDump } from '../process/protected-pids.js';
import { validateDumpRequest } from '../validation/dump-adapters.js';
import { gpuAdaptersForDump } from './gpu-adapters.js';
import { pluginHandler, pluginMiddleware } from './plugin-adapters.js';
import { streamAdaptersForDump } from './stream-adapters.js';

/** `intent` is the dump's journal record (jobs/dump-journal.ts): what a daemon that restarts reads. */
export async function dumpPipeline(type: string, intent: DumpIntent = NO_INTENT): Promise<DumpHandlerFn> {
  return withAdapters(
    await pluginHandler(features.DumpHandler, type, 'criu'),
    fillMissingDumpDefaults,
    validateDumpRequest,
    prepareDumpDirWith(intent),

    ...(await pluginMiddleware(features.DumpMiddleware, type)), // the type's plugin, then appliesTo plugins; by now ctx.pid is set

    fillProcessStateForDump,
    refuseProtectedPidForDump, // never PID 1, the daemon, or a process the daemon runs under
    detectPidNamespaceForDump, // a job in its own PID namespace is dumped with it
    detectShellJobForDump,
    addExternalFilesForDump,
    detectNetworkOptionsForDump,
    recordCriuOptionsForDump, // by now the CRIU options are chosen: those a restore repeats go into checkpoint.json

    gpuAdaptersForDump, // GPU jobs only: the gpu plugin's steps right around CRIU
    streamAdaptersForDump, // --streams N only: the streamer feeds on CRIU's --stream mode, innermost
  );
}
