/**
 * @cedana/plugin-containerd: containerd containers, through containerd's own gRPC API on
 * its socket (never by parsing `ctr`). Only what is specific to containerd lives here; the
 * daemon does the common work (checkpoint folders, compression, checkpoint.json, jobs).
 * The final dump and restore handlers are containerd's Tasks.Checkpoint (raw CRIU images
 * into the checkpoint folder) and Tasks.Create from those images.
 */
import { readFileSync } from 'node:fs';
import { definePlugin } from '@cedana/plugin-sdk';
import { containerdCleanup } from './cleanup.js';
import { dumpCmd, manageCmd, queryCmd, restoreCmd, runCmd } from './commands.js';
import { containerdDump, dumpMiddleware } from './dump.js';
import { CONTAINERD_ERRORS } from './errors.js';
import { containerdHealthCheck } from './health.js';
import { containerdManage } from './manage.js';
import { containerdQuery } from './query.js';
import { containerdRestore, restoreMiddleware } from './restore.js';
import { containerdRun } from './run.js';

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
    DumpMiddleware: dumpMiddleware,
    DumpHandler: containerdDump,
    RestoreMiddleware: restoreMiddleware,
    RestoreHandler: containerdRestore,
    RunHandler: containerdRun,
    ManageHandler: containerdManage,
    // A container's init ignores SIGTERM from outside its PID namespace unless it handles it.
    KillSignal: 'SIGKILL',
    Cleanup: containerdCleanup,
    QueryHandler: containerdQuery,
    HealthChecks: [containerdHealthCheck],
  },
});
