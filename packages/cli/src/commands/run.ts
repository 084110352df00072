/**
 * `cedana run process [flags] -- CMD ARGS...` (also `cedana exec`) starts a managed
 * job; `cedana run <plugin>` exists while a plugin exports RunCmd.
 */
import { features, type LoadedPlugin } from '@cedana/core';
import type { RunReq } from '@cedana/core/proto';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../exit-codes.js';
import { addPluginOptions, type PluginCmd, pluginCommands, pluginDetails } from '../plugins/commands.js';
import { action, type GlobalArgs, type Session } from '../session.js';
import { attach } from './attach.js';
import { envOf, nameOf } from './validate.js';

export interface RunArgs extends GlobalArgs {
  jid?: string;
  log?: string;
  attach?: boolean;
  attachable?: boolean;
  env?: string[];
  cwd?: string;
  gpuEnabled?: boolean;
  pidNs?: boolean;
  cmd?: string[];
  '--'?: string[];
}

export function runOptions(y: Argv): Argv {
  return y
    .positional('cmd', { type: 'string', array: true, describe: 'the program and its arguments (put them after -- when they have flags)' })
    .option('jid', { alias: 'j', type: 'string', describe: 'job ID (default: generated)' })
    .option('log', { type: 'string', describe: "file for the job's stdout and stderr (default: /var/log/cedana-output-JID.log)" })
    .option('attach', { alias: 'a', type: 'boolean', describe: "attach to the job's I/O now (Ctrl+C detaches, the job goes on)" })
    .option('attachable', { type: 'boolean', describe: "keep the job's I/O for `cedana attach` later, without attaching now" })
    .option('env', {
      alias: 'e',
      type: 'string',
      array: true,
      nargs: 1,
      describe: "environment KEY=VALUE, repeatable (default: the daemon's)",
    })
    .option('cwd', { type: 'string', describe: 'working directory' })
    .option('gpu-enabled', { alias: 'g', type: 'boolean', describe: 'enable GPU checkpointing (needs a plugin in the accelerator role)' })
    .option('pid-ns', {
      type: 'boolean',
      describe:
        'start the job as init of its own PID and mount namespace: a restore needs no PID free, and one checkpoint restores as many jobs at once (default: config jobs.pid_namespace)',
    });
}

/** The Run request of the parsed flags. */
export function runRequest(argv: RunArgs, type: string, details?: Record<string, unknown>): RunReq {
  const args = [...(argv.cmd ?? []), ...(argv['--'] ?? [])].map(String);
  if (type === 'process' && args.length === 0) throw new UsageError('name the program to run: `cedana run process -- CMD ARGS...`');
  return {
    jid: nameOf(argv.jid, 'JID'),
    type,
    process: { args, env: envOf(argv.env), workingDir: argv.cwd ?? '' },
    log: argv.log ?? '',
    attachable: Boolean(argv.attach || argv.attachable),
    gpuEnabled: Boolean(argv.gpuEnabled),
    ...(argv.pidNs === undefined ? {} : { pidNamespace: argv.pidNs }),
    details,
  };
}

async function run(session: Session, argv: RunArgs, req: RunReq): Promise<void> {
  const resp = await (await session.client(argv)).run(req);
  for (const m of resp.messages) session.err(m);
  if (!argv.attach) {
    session.out(`started job ${resp.jid} (pid ${resp.pid})`);
    return;
  }
  session.err(`started job ${resp.jid} (pid ${resp.pid}); attached, Ctrl+C detaches`);
  await attach(session, argv, { jid: resp.jid });
}

/** `run process`, and the same command as top-level `exec`. */
export function runProcessCommand(session: Session, name = 'process'): CommandModule {
  return {
    command: `${name} [cmd..]`,
    describe: name === 'exec' ? 'Run a process as a managed job (same as `run process`)' : 'Run a process as a managed job',
    builder: (y: Argv) => {
      const cmd = name === 'exec' ? '$0 exec' : '$0 run process';
      return runOptions(y)
        .example(`${cmd} -j web -- python3 -m http.server 8000`, 'start job "web"')
        .example(`${cmd} -a -- bash -c 'read x; echo $x'`, 'start a job and attach to it')
        .example(`${cmd} --pid-ns -j web -- python3 -m http.server 8000`, 'start it as init of its own PID namespace');
    },
    handler: action<RunArgs>(session, (argv) => run(session, argv, runRequest(argv, 'process'))),
  };
}

function pluginRunCommand(session: Session, pc: PluginCmd): CommandModule {
  return {
    command: `${pc.plugin} [cmd..]`,
    describe: pc.cmd.describe,
    builder: (y: Argv) => addPluginOptions(runOptions(y), pc.cmd.options),
    handler: action<RunArgs>(session, (argv) =>
      run(session, argv, runRequest(argv, pc.plugin, pluginDetails(pc, features.RunCmd.symbol, argv as Record<string, unknown>))),
    ),
  };
}

export function runCommand(session: Session, plugins: readonly LoadedPlugin[]): CommandModule {
  return {
    command: 'run',
    describe: 'Run a managed job: a process, or a container of a runtime plugin',
    builder: (y: Argv) => {
      let out = y.command(runProcessCommand(session));
      for (const pc of pluginCommands(plugins, features.RunCmd, ['process'])) out = out.command(pluginRunCommand(session, pc));
      return out.demandCommand(1, 'name what to run: `process`, or a plugin type (`cedana features` lists them)');
    },
    handler: () => {},
  };
}
