/**
 * The `cedana` command tree (Cedana's CLI reference: daemon, run, manage, dump,
 * restore, job, ps, kill, delete, attach, checkpoints, inspect, query, features,
 * plugin, completion), plus the subcommands of installed plugins.
 * runCli() never exits the process: it returns the exit code (exit-codes.ts).
 */
import { HOST_VERSION, type LoadedPlugin, loadConfig } from '@cedana/core';
import yargs, { type CommandModule } from 'yargs';
import { daemonCommand } from './commands/daemon.js';
import { dumpCommand } from './commands/dump.js';
import { featuresCommand } from './commands/features.js';
import { helperCommands } from './commands/helper-cmds.js';
import { jobShorthands } from './commands/job.js';
import { manageCommand } from './commands/manage.js';
import { migrateCommand } from './commands/migrate.js';
import { pluginCommand } from './commands/plugin.js';
import { queryCommand } from './commands/query.js';
import { restoreCommand } from './commands/restore.js';
import { runCommand, runProcessCommand } from './commands/run.js';
import { EXIT_CODES_HELP, UsageError } from './exit-codes.js';
import { GLOBAL_OPTIONS } from './global-options.js';
import { needsPlugins } from './plugin-free.js';
import { installMissingRuntime } from './plugins/jit-install.js';
import { configFlag } from './plugins/load.js';
import { type CliDeps, Session } from './session.js';

const EPILOGUE = `${EXIT_CODES_HELP}

Config: ~/.cedana/config.json (or --config), overridden by CEDANA_* environment
variables (CEDANA_ADDRESS, CEDANA_CHECKPOINT_DIR, ...), overridden by flags.`;

export async function runCli(args: readonly string[], deps: CliDeps): Promise<number> {
  const session = new Session(deps);
  const loaded = needsPlugins(args) ? await preloadPlugins(session, args) : [];
  let jit: { args: string[]; plugins: readonly LoadedPlugin[] };
  try {
    jit = await installMissingRuntime(session, args, loaded); // `dump runc` without runc
  } catch (err) {
    session.fail(err);
    return session.finish();
  }
  return runWithPlugins(session, jit.args, jit.plugins);
}

/** Runs the command line with the subcommands and flags of `plugins` (runCli decides whether the installed ones are needed). */
export async function runWithPlugins(session: Session, args: readonly string[], plugins: readonly LoadedPlugin[]): Promise<number> {
  const builtins: CommandModule[] = [
    daemonCommand(session),
    runCommand(session, plugins),
    runProcessCommand(session, 'exec'),
    manageCommand(session, plugins),
    dumpCommand(session, plugins),
    restoreCommand(session, plugins),
    migrateCommand(session),
    ...jobShorthands(session),
    queryCommand(session, plugins),
    featuresCommand(session),
    pluginCommand(session),
  ];
  const reserved = [...builtins.flatMap((c) => [c.command ?? []].flat().map((s) => s.split(' ')[0] ?? '')), 'completion', 'help'];

  let cli = yargs()
    .scriptName('cedana')
    .usage('$0 <command> [options]\n\nCheckpoint/restore daemon and CLI for Linux processes and containers.')
    .parserConfiguration({ 'populate--': true, 'parse-positional-numbers': false })
    .options(GLOBAL_OPTIONS)
    .group([...Object.keys(GLOBAL_OPTIONS), 'help', 'version'], 'Global options:');
  for (const command of [...builtins, ...helperCommands(session, plugins, reserved)]) cli = cli.command(command);
  cli = cli
    .completion('completion', 'Print a shell completion script (bash, zsh): cedana completion >> ~/.bashrc')
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .alias('help', 'h')
    .version(HOST_VERSION)
    .epilogue(EPILOGUE)
    .wrap(Math.min(120, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err, y) => {
      // Throwing stops yargs: returning would let it run the handler anyway.
      if (err) throw err;
      if (args.length === 0) y.showHelp();
      throw new UsageError(msg ?? 'invalid usage', `run \`cedana ${commandPath(args, msg ?? '')}--help\` to see what it expects`);
    });

  try {
    await cli.parseAsync([...args]);
  } catch (err) {
    session.fail(err);
  }
  return session.finish();
}

/** Loads plugins for their subcommands; any failure leaves them out (`features --errors` tells why). */
async function preloadPlugins(session: Session, args: readonly string[]): Promise<LoadedPlugin[]> {
  try {
    const config = loadConfig({ path: configFlag(args), env: session.deps.env });
    return await session.plugins(config['plugins.dir']);
  } catch {
    return [];
  }
}

/** "dump job " of `dump job --bogus`, for the usage hint; words yargs did not know are left out. */
export function commandPath(args: readonly string[], message: string): string {
  const unknown = /^Unknown (?:argument|arguments|command)s?: (.*)$/m.exec(message)?.[1]?.split(', ') ?? [];
  const words: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('-') || words.length === 2 || unknown.includes(arg)) break;
    words.push(arg);
  }
  return words.map((w) => `${w} `).join('');
}
