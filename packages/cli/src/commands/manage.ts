/** `cedana manage process --pid PID`: a process started elsewhere becomes a managed job. */
import { features, type LoadedPlugin } from '@cedana/core';
import type { ManageReq } from '@cedana/core/proto';
import type { Argv, CommandModule } from 'yargs';
import { addPluginOptions, type PluginCmd, pluginCommands, pluginDetails } from '../plugins/commands.js';
import { action, type GlobalArgs, type Session } from '../session.js';
import { nameOf, pidOf } from './validate.js';

export interface ManageArgs extends GlobalArgs {
  jid?: string;
  pid?: number;
  gpuEnabled?: boolean;
}

function manageOptions(y: Argv): Argv {
  return y
    .option('jid', { alias: 'j', type: 'string', describe: 'job ID (default: generated)' })
    .option('gpu-enabled', { alias: 'g', type: 'boolean', describe: 'enable GPU checkpointing (needs a plugin in the accelerator role)' });
}

export function manageRequest(argv: ManageArgs, type: string, details?: Record<string, unknown>): ManageReq {
  return {
    jid: nameOf(argv.jid, 'JID'),
    type,
    pid: type === 'process' ? pidOf(argv.pid, '--pid') : 0,
    gpuEnabled: Boolean(argv.gpuEnabled),
    details,
  };
}

async function manage(session: Session, argv: ManageArgs, req: ManageReq): Promise<void> {
  const resp = await (await session.client(argv)).manage(req);
  for (const m of resp.messages) session.err(m);
  session.out(`managing job ${resp.jid} (pid ${resp.pid})`);
}

function pluginManageCommand(session: Session, pc: PluginCmd): CommandModule {
  return {
    command: pc.plugin,
    describe: pc.cmd.describe,
    builder: (y: Argv) => addPluginOptions(manageOptions(y), pc.cmd.options),
    handler: action<ManageArgs>(session, (argv) =>
      manage(session, argv, manageRequest(argv, pc.plugin, pluginDetails(pc, features.ManageCmd.symbol, argv as Record<string, unknown>))),
    ),
  };
}

export function manageCommand(session: Session, plugins: readonly LoadedPlugin[]): CommandModule {
  return {
    command: 'manage',
    describe: 'Manage an existing process or container as a job',
    builder: (y: Argv) => {
      let out = y.command({
        command: 'process',
        describe: 'Manage a running process as a job',
        builder: (p: Argv) =>
          manageOptions(p)
            .option('pid', { alias: 'p', type: 'number', demandOption: true, describe: 'PID of the process' })
            .example('$0 manage process -p 4242 -j db', 'make PID 4242 the job "db"'),
        handler: action<ManageArgs>(session, (argv) => manage(session, argv, manageRequest(argv, 'process'))),
      });
      for (const pc of pluginCommands(plugins, features.ManageCmd, ['process'])) out = out.command(pluginManageCommand(session, pc));
      return out.demandCommand(1, 'name what to manage: `process`, or a plugin type (`cedana features` lists them)');
    },
    handler: () => {},
  };
}
