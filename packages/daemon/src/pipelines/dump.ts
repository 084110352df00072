/**
 * The dump pipeline. The order below is the order followed before the final
 * handler (the type's own, else the engine's: CRIU) runs.
 */
import { type DumpHandlerFn, features, type PluginSource, withAdapters } from '@cedana/core';
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
export function dumpPipeline(plugins: PluginSource, type: string, intent: DumpIntent = NO_INTENT): DumpHandlerFn {
  return withAdapters(
    pluginHandler(plugins, features.DumpHandler, type), // the type's own, else the engine's
    fillMissingDumpDefaults,
    validateDumpRequest,
    prepareDumpDirWith(intent),

    ...pluginMiddleware(plugins, features.DumpMiddleware, type), // the type's plugin, then appliesTo plugins; by now ctx.pid is set

    fillProcessStateForDump,
    refuseProtectedPidForDump, // never PID 1, the daemon, or a process the daemon runs under
    detectPidNamespaceForDump, // a job in its own PID namespace is dumped with it
    detectShellJobForDump,
    addExternalFilesForDump,
    detectNetworkOptionsForDump,
    recordCriuOptionsForDump, // by now the CRIU options are chosen: those a restore repeats go into checkpoint.json

    gpuAdaptersForDump, // GPU jobs only: the accelerator plugin's steps right around CRIU
    streamAdaptersForDump, // --streams N only: the streams plugin feeds on CRIU's --stream mode, innermost
  );
}
