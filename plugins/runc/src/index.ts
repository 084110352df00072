/**
 * @cedana/plugin-runc: runc containers. Only what is specific to runc lives here; the
 * daemon does the common work (checkpoint folders, compression, checkpoint.json, jobs).
 * The final dump and restore handlers are `runc checkpoint` / `runc restore`, which run
 * CRIU themselves with everything runc knows about its containers.
 */
import { readFileSync } from 'node:fs';
import { definePlugin } from '@cedana/plugin-sdk';
import { runcCleanup } from './cleanup.js';
import { dumpCmd, manageCmd, queryCmd, restoreCmd, runCmd } from './commands.js';
import { dumpMiddleware, runcDump } from './dump.js';
import { RUNC_ERRORS } from './errors.js';
import { runcHealthCheck } from './health.js';
import { runcManage } from './manage.js';
import { runcQuery } from './query.js';
import { restoreMiddleware, runcRestore } from './restore.js';
import { runcRun } from './run.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default definePlugin({
  name: 'runc',
  version,
  role: 'runtime',
  errors: RUNC_ERRORS,
  features: {
    DumpCmd: dumpCmd,
    RestoreCmd: restoreCmd,
    RunCmd: runCmd,
    ManageCmd: manageCmd,
    QueryCmd: queryCmd,
    DumpMiddleware: dumpMiddleware,
    DumpHandler: runcDump,
    RestoreMiddleware: restoreMiddleware,
    RestoreHandler: runcRestore,
    RunHandler: runcRun,
    ManageHandler: runcManage,
    // A container's init ignores SIGTERM from outside its PID namespace unless it handles it.
    KillSignal: 'SIGKILL',
    Cleanup: runcCleanup,
    QueryHandler: runcQuery,
    HealthChecks: [runcHealthCheck],
  },
});
