/**
 * @cedana/plugin-containerd: containerd containers, through containerd's own gRPC API on
 * its socket (never by parsing `ctr`). Only what is specific to containerd lives here; the
 * daemon does the common work (checkpoint folders, compression, checkpoint.json, jobs).
 * The final dump and restore handlers are containerd's Tasks.Checkpoint (raw CRIU images
 * into the checkpoint folder) and Tasks.Create from those images.
 *
 * Only the flags (commands.ts) and error codes are imported with the plugin: every handler
 * imports its module, and with it the gRPC client and the generated protobuf code, at its
 * first call (`onDemand`), so a daemon start or a CLI command line that reads containerd's
 * flags does not pay for them.
 */
import { readFileSync } from 'node:fs';
import { adapterOnDemand, definePlugin, onDemand } from '@cedana/plugin-sdk';
import { dumpCmd, manageCmd, queryCmd, restoreCmd, runCmd } from './commands.js';
import { CONTAINERD_ERRORS } from './errors.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default definePlugin({
  name: 'containerd',
  version,
  role: 'runtime',
  errors: CONTAINERD_ERRORS,
  features: {
    DumpCmd: dumpCmd,
    RestoreCmd: restoreCmd,
    RunCmd: runCmd,
    ManageCmd: manageCmd,
    QueryCmd: queryCmd,
    DumpMiddleware: [adapterOnDemand('findContainerdTaskForDump', async () => (await import('./dump.js')).findContainerdTaskForDump)],
    DumpHandler: onDemand('containerdDump', async () => (await import('./dump.js')).containerdDump),
    RestoreMiddleware: [adapterOnDemand('prepareContainerdRestore', async () => (await import('./restore.js')).prepareContainerdRestore)],
    RestoreHandler: onDemand('containerdRestore', async () => (await import('./restore.js')).containerdRestore),
    RunHandler: onDemand('containerdRun', async () => (await import('./run.js')).containerdRun),
    ManageHandler: onDemand('containerdManage', async () => (await import('./manage.js')).containerdManage),
    // A container's init ignores SIGTERM from outside its PID namespace unless it handles it.
    KillSignal: 'SIGKILL',
    Cleanup: onDemand('containerdCleanup', async () => (await import('./cleanup.js')).containerdCleanup),
    QueryHandler: onDemand('containerdQuery', async () => (await import('./query.js')).containerdQuery),
    HealthChecks: [onDemand('containerdHealthCheck', async () => (await import('./health.js')).containerdHealthCheck)],
  },
});
