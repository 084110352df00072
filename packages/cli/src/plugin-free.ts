/**
 * Which command lines need no plugin, read before yargs runs: importing the installed
 * plugins costs more than all the rest of a start, so `cedana dump job J` should not pay it.
 * When in doubt (a word or flag not known here) the plugins are loaded, as every command
 * line did before this.
 */
import { RESTORE_JOB_FLAGS } from './commands/restore.js';
import { GLOBAL_VALUE_FLAGS } from './global-options.js';

/** First-level commands that never involve a plugin. */
const PLUGIN_FREE = new Set([
  'daemon',
  'exec',
  'ps',
  'jobs',
  'job',
  'kill',
  'delete',
  'attach',
  'checkpoints',
  'checkpoint',
  'inspect',
  'completion',
  'plugin', // its subcommands load plugins themselves where they need them
  'plugins',
  'migrate',
]);

/**
 * The built-in subcommands of the commands plugins add subcommands to (`dump runc`): a
 * plugin can neither take their names nor add a flag to them.
 */
const BUILT_IN_SUBCOMMANDS: Record<string, readonly string[]> = {
  dump: ['job', 'process'],
  restore: ['process'],
  run: ['process'],
  manage: ['process'],
};

/**
 * Subcommands to which plugins add optional flags (`restore job J --id NEW`): without
 * one of those, and without --help (which lists them), the plugins change nothing.
 */
const OWN_FLAGS: Record<string, Record<string, readonly string[]>> = {
  restore: { job: RESTORE_JOB_FLAGS },
};

/** Whether the command line may need the plugins: their subcommands (dump runc), flags (restore job J --id), helper commands. */
export function needsPlugins(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return true;
    if (GLOBAL_VALUE_FLAGS.includes(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    if (PLUGIN_FREE.has(arg)) return false;
    const sub = args[i + 1];
    if (sub === undefined) return true;
    if (BUILT_IN_SUBCOMMANDS[arg]?.includes(sub)) return false;
    const own = OWN_FLAGS[arg]?.[sub];
    return own === undefined || !onlyFlagsOf(args, own);
  }
  return !args.includes('--version'); // `cedana --version` alone needs nothing
}

/** Whether every flag before `--` is one of `own` (as --name, --name=value, --no-name or -n); --help never is. */
function onlyFlagsOf(args: readonly string[], own: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const name = arg.replace(/^--?/, '').replace(/=.*$/s, '');
    const known = own.includes(name) || (arg.startsWith('--no-') && own.includes(name.slice('no-'.length)));
    if (!known) return false;
  }
  return true;
}
