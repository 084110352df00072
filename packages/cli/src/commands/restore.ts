/**
 * `cedana restore job JID` (its last checkpoint, or --path) and `cedana restore
 * process --path P`; `cedana restore <plugin>` exists while a plugin exports RestoreCmd.
 */
import { features, type LoadedPlugin, type Role } from '@cedana/core';
import type { RestoreReq } from '@cedana/core/proto';
import type { Argv, CommandModule, Options } from 'yargs';
import { GLOBAL_OPTIONS } from '../global-options.js';
import { formatStats } from '../output/stats.js';
import {
  addOptionalPluginOptions,
  addPluginOptions,
  givenPluginDetails,
  type PluginCmd,
  pluginCommands,
  pluginDetails,
} from '../plugins/commands.js';
import { action, type GlobalArgs, type Session } from '../session.js';
import { attach } from './attach.js';
import { type CriuArgs, criuOptions, criuOpts, RESTORE_CRIU_FLAGS } from './criu-flags.js';
import { nameOf } from './validate.js';
import { MEASURE_OPTIONS, type ProgressArgs, withProgress } from './with-progress.js';

export interface RestoreArgs extends GlobalArgs, ProgressArgs, CriuArgs {
  printStats?: boolean;
  jid?: string;
  path?: string;
  attach?: boolean;
  attachable?: boolean;
  log?: string;
  streams?: number;
  lazy?: boolean;
}

const IO_OPTIONS = {
  attach: { alias: 'a', type: 'boolean', describe: "attach to the restored job's I/O (Ctrl+C detaches)" },
  attachable: { type: 'boolean', describe: "keep the job's I/O for `cedana attach` later" },
  log: { type: 'string', describe: "file for the restored job's stdout and stderr" },
  streams: {
    type: 'number',
    describe: 'stream count of a streamed checkpoint (read from its checkpoint.json when left out; a different count is refused)',
  },
  lazy: {
    type: 'boolean',
    describe:
      "start the process before its memory is resident: CRIU's lazy-pages daemon fills page faults and copies the rest in the background " +
      '(userfaultfd); only from an uncompressed local checkpoint folder (`dump --compression none`, no --streams)',
  },
} as const;

/** How the CRIU options of a restore are chosen, under --help. */
const RESTORE_EPILOGUE =
  'A restore repeats the CRIU options its dump recorded in checkpoint.json (--tcp-established, --file-locks, ' +
  '--shell-job, --ext-unix-sk, external mounts); a flag given here wins over the recorded one, e.g. --no-file-locks.';

function ioOptions(y: Argv): Argv {
  return criuOptions(y.options(IO_OPTIONS).options(MEASURE_OPTIONS), 'restore');
}

/**
 * Every flag `restore job` has of its own (aliases included), `--help` aside: plugins never
 * redefine one of them, and a command line with no other flag needs no plugin (plugin-free.ts).
 */
export const RESTORE_JOB_FLAGS: readonly string[] = [
  'jid',
  'path',
  ...flagNames(IO_OPTIONS),
  ...flagNames(MEASURE_OPTIONS),
  ...RESTORE_CRIU_FLAGS,
  ...flagNames(GLOBAL_OPTIONS),
  'version',
];

function flagNames(options: Record<string, Options>): string[] {
  return Object.entries(options).flatMap(([name, spec]) => [name, ...[spec.alias ?? []].flat()]);
}

export function restoreRequest(argv: RestoreArgs, type: string, pluginDetails?: Record<string, unknown>): RestoreReq {
  // --streams is the streams role's: the daemon hands it to the plugin that fills the role.
  const role: Role = 'streams';
  const details = argv.streams ? { ...pluginDetails, [role]: { streams: argv.streams } } : pluginDetails;
  return {
    // `restore job JID` looks a job up (one from before the name rule too); `--jid` names a new one.
    jid: type === '' ? (argv.jid ?? '') : nameOf(argv.jid, 'JID'),
    path: argv.path ?? '',
    checkpointId: '',
    type,
    criu: criuOpts(argv), // left out: the dump's recorded options apply
    attachable: Boolean(argv.attach || argv.attachable),
    log: argv.log ?? '',
    details,
    ...(argv.lazy ? { lazy: true } : {}),
  };
}

async function restore(session: Session, argv: RestoreArgs, req: RestoreReq): Promise<void> {
  const client = await session.client(argv);
  const what = req.jid ? `job ${req.jid}` : req.path;
  const resp = await withProgress(session, client, argv, `restoring ${what}`, (opts) => client.restore(req, opts));
  if (argv.json && !argv.attach) return session.json(resp);
  for (const m of resp.messages) session.err(m);
  if (argv.printStats && resp.stats) session.err(formatStats(resp.stats).join('\n'));
  const line = resp.jid ? `restored job ${resp.jid} (pid ${resp.pid})` : `restored pid ${resp.pid}`;
  if (!argv.attach) return session.out(line);
  session.err(`${line}; attached, Ctrl+C detaches`);
  await attach(session, argv, resp.jid ? { jid: resp.jid } : { pid: resp.pid });
}

function pluginRestoreCommand(session: Session, pc: PluginCmd): CommandModule {
  return {
    command: pc.plugin,
    describe: pc.cmd.describe,
    builder: (y: Argv) =>
      addPluginOptions(
        ioOptions(y)
          .option('path', { type: 'string', describe: 'checkpoint folder or archive, or s3://BUCKET/PREFIX/NAME' })
          .option('jid', { alias: 'j', type: 'string', describe: 'job ID of the restored container' }),
        pc.cmd.options,
      ),
    handler: action<RestoreArgs>(session, (argv) =>
      restore(
        session,
        argv,
        restoreRequest(argv, pc.plugin, pluginDetails(pc, features.RestoreCmd.symbol, argv as Record<string, unknown>)),
      ),
    ),
  };
}

export function restoreCommand(session: Session, plugins: readonly LoadedPlugin[]): CommandModule {
  return {
    command: 'restore',
    describe: 'Restore a job, a process, or a container of a runtime plugin',
    builder: (y: Argv) => {
      const plugged = pluginCommands(plugins, features.RestoreCmd, ['job', 'process']);
      let out = y
        .command({
          command: 'job <jid>',
          describe: 'Restore a managed job from its last checkpoint (or --path)',
          builder: (j: Argv) =>
            addOptionalPluginOptions(
              ioOptions(j.positional('jid', { type: 'string', describe: 'job ID' })).option('path', {
                type: 'string',
                describe: 'checkpoint folder or archive (default: the job’s last checkpoint)',
              }),
              plugged,
              RESTORE_JOB_FLAGS,
            )
              .example('$0 restore job web', 'restore job "web" from its last checkpoint')
              .example('$0 restore job web -a', 'restore it and attach')
              .example('$0 restore job web --no-file-locks', 'restore it without the file locks its dump recorded')
              .example('$0 restore job web --lazy', 'run it at once; its memory follows in the background (an uncompressed checkpoint)')
              .epilogue(RESTORE_EPILOGUE),
          handler: action<RestoreArgs>(session, (argv) =>
            restore(
              session,
              argv,
              restoreRequest(
                argv,
                '',
                givenPluginDetails(plugged, features.RestoreCmd.symbol, argv as Record<string, unknown>, RESTORE_JOB_FLAGS),
              ),
            ),
          ),
        })
        .command({
          command: 'process',
          describe: 'Restore a process from a checkpoint',
          builder: (p: Argv) =>
            ioOptions(p)
              .option('path', { type: 'string', demandOption: true, describe: 'checkpoint folder or archive, or s3://BUCKET/PREFIX/NAME' })
              .option('jid', { alias: 'j', type: 'string', describe: 'job ID of the restored process (default: a new random one)' })
              .example('$0 restore process --path /data/ckpt/dump-4242.tar.lz4', 'restore it as a new job')
              .example('$0 restore process --path /data/ckpt/dump-4242.tar.lz4 -j train2', 'restore it as the job "train2"')
              .epilogue(RESTORE_EPILOGUE),
          handler: action<RestoreArgs>(session, (argv) => restore(session, argv, restoreRequest(argv, 'process'))),
        });
      for (const pc of plugged) out = out.command(pluginRestoreCommand(session, pc));
      return out.demandCommand(1, 'name what to restore: `job`, `process`, or a plugin type (`cedana features` lists them)');
    },
    handler: () => {},
  };
}
