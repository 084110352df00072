/**
 * `cedana dump job JID` and `cedana dump process PID` checkpoint with CRIU;
 * `cedana dump <plugin>` exists while a plugin exports DumpCmd.
 */
import { COMPRESSIONS, features, type LoadedPlugin, type Role } from '@cedana/core';
import type { DumpReq } from '@cedana/core/proto';
import type { Argv, CommandModule } from 'yargs';
import { formatStats } from '../output/stats.js';
import { formatSize } from '../output/table.js';
import { addPluginOptions, type PluginCmd, pluginCommands, pluginDetails } from '../plugins/commands.js';
import { action, type GlobalArgs, type Session } from '../session.js';
import { type CriuArgs, criuOptions, criuOpts } from './criu-flags.js';
import { countOf, nameOf, pidOf } from './validate.js';
import { MEASURE_OPTIONS, type ProgressArgs, withProgress } from './with-progress.js';

export interface DumpArgs extends GlobalArgs, CriuArgs, ProgressArgs {
  printStats?: boolean;
  jid?: string;
  pid?: string | number;
  dir?: string;
  name?: string;
  compression?: string;
  streams?: number;
}

export function dumpOptions(y: Argv): Argv {
  return criuOptions(
    y
      .option('dir', {
        alias: 'd',
        type: 'string',
        describe: 'parent folder of the checkpoint, or s3://BUCKET/PREFIX (default: config checkpoint.dir)',
      })
      .option('name', { type: 'string', describe: 'checkpoint name (default: generated)' })
      .option('compression', { type: 'string', choices: COMPRESSIONS, describe: 'archive format (default: config checkpoint.compression)' })
      .option('streams', {
        type: 'number',
        describe:
          'parallel checkpoint streams (needs a plugin in the streams role; default: config checkpoint.streams; at most checkpoint.max_streams)',
      })
      .options(MEASURE_OPTIONS),
  );
}

/** The Dump request of the parsed flags: a job (jid), a process (pid), or a plugin's type with its details. */
export function dumpRequest(
  argv: DumpArgs,
  target: { jid: string } | { pid: number } | { type: string; details: Record<string, unknown> },
): DumpReq {
  return {
    jid: 'jid' in target ? target.jid : '',
    type: 'type' in target ? target.type : 'pid' in target ? 'process' : '',
    pid: 'pid' in target ? target.pid : 0,
    dir: argv.dir ?? '',
    name: nameOf(argv.name, 'checkpoint name'),
    compression: argv.compression ?? '',
    streams: countOf(argv.streams, 'streams'), // left out: the daemon applies checkpoint.streams where it can
    criu: criuOpts(argv),
    details: 'details' in target ? target.details : undefined,
  };
}

/** `--gpu`: insist on a GPU checkpoint (refused unless the job was started with --gpu-enabled). */
function gpuOption(y: Argv): Argv {
  return y.option('gpu', { type: 'boolean', describe: 'require a GPU checkpoint (the job must run with --gpu-enabled)' });
}

function withGpu(argv: DumpArgs & { gpu?: boolean }, req: DumpReq): DumpReq {
  const role: Role = 'accelerator'; // the daemon hands it to the plugin that fills the role
  return argv.gpu ? { ...req, details: { ...req.details, [role]: {} } } : req;
}

async function dump(session: Session, argv: DumpArgs, req: DumpReq, what: string): Promise<void> {
  const client = await session.client(argv);
  const resp = await withProgress(session, client, argv, `dumping ${what}`, (opts) => client.dump(req, opts));
  if (argv.json) return session.json(resp);
  for (const m of resp.messages) session.err(m);
  if (argv.printStats && resp.stats) session.err(formatStats(resp.stats).join('\n'));
  const c = resp.checkpoint;
  if (!c) return session.out(`dumped ${what}`);
  session.out(
    `dumped ${what} to ${c.path} (${formatSize(c.size)}${c.compression && c.compression !== 'none' ? `, ${c.compression}` : ''})`,
  );
  session.out(`checkpoint ${c.id}`);
}

function pluginDumpCommand(session: Session, pc: PluginCmd): CommandModule {
  return {
    command: pc.plugin,
    describe: pc.cmd.describe,
    builder: (y: Argv) => addPluginOptions(dumpOptions(y), pc.cmd.options),
    handler: action<DumpArgs>(session, (argv) => {
      const details = pluginDetails(pc, features.DumpCmd.symbol, argv as Record<string, unknown>);
      return dump(session, argv, dumpRequest(argv, { type: pc.plugin, details }), pc.plugin);
    }),
  };
}

export function dumpCommand(session: Session, plugins: readonly LoadedPlugin[]): CommandModule {
  return {
    command: 'dump',
    describe: 'Checkpoint a job, a process, or a container of a runtime plugin',
    builder: (y: Argv) => {
      let out = y
        .command({
          command: 'job <jid>',
          describe: 'Checkpoint a managed job',
          builder: (j: Argv) =>
            gpuOption(dumpOptions(j.positional('jid', { type: 'string', describe: 'job ID' })))
              .example('$0 dump job web -d /data/ckpt --compression lz4', 'checkpoint job "web" into /data/ckpt')
              .example('$0 dump job web --leave-running --tcp-established', 'checkpoint and keep it running'),
          handler: action<DumpArgs & { jid: string }>(session, (argv) =>
            dump(session, argv, withGpu(argv, dumpRequest(argv, { jid: argv.jid })), `job ${argv.jid}`),
          ),
        })
        .command({
          command: 'process <pid>',
          describe: 'Checkpoint a process that is not a job',
          builder: (p: Argv) =>
            gpuOption(dumpOptions(p.positional('pid', { type: 'string', describe: 'PID of the process' }))).example(
              '$0 dump process 4242 -d /data/ckpt',
              '',
            ),
          handler: action<DumpArgs>(session, (argv) => {
            const pid = pidOf(argv.pid);
            return dump(session, argv, withGpu(argv, dumpRequest(argv, { pid })), `process ${pid}`);
          }),
        });
      for (const pc of pluginCommands(plugins, features.DumpCmd, ['job', 'process'])) out = out.command(pluginDumpCommand(session, pc));
      return out.demandCommand(1, 'name what to dump: `job`, `process`, or a plugin type (`cedana features` lists them)');
    },
    handler: () => {},
  };
}
