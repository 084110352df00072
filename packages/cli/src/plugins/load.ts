/**
 * The CLI loads the installed plugins itself (the same loader as the daemon), so
 * `features`, `plugin list` and the plugin subcommands (`dump runc`, ...) work
 * without a running daemon. The loader is imported lazily: commands that cannot
 * involve a plugin (`ps`, `job ...`, ...) skip it and start faster.
 */
import { CedanaError, type LoadedPlugin } from '@cedana/core';

export async function loadInstalledPlugins(dir: string): Promise<LoadedPlugin[]> {
  let mod: typeof import('@cedana/daemon/plugins');
  try {
    mod = await import('@cedana/daemon/plugins');
  } catch (err) {
    throw new CedanaError('CEDANA_ERR_INTERNAL', `cannot load the plugin loader (@cedana/daemon/plugins): ${(err as Error).message}`, {
      hint: 'reinstall cedana: its @cedana/daemon package is missing or broken',
      cause: err,
    });
  }
  try {
    return await mod.loadPlugins(dir);
  } catch (err) {
    throw new CedanaError('CEDANA_ERR_PLUGIN_IMPORT', `cannot read the plugins folder ${dir}: ${(err as Error).message}`, {
      hint: 'check plugins.dir in the config (or CEDANA_PLUGINS_DIR) and its permissions',
      cause: err,
    });
  }
}

/** First-level commands that never involve a plugin: no plugin loading for them. */
const PLUGIN_FREE = new Set([
  'daemon',
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
]);
/** Global flags that take a value, so the value is not mistaken for the command. */
const VALUE_FLAGS = new Set(['--config', '--address', '--protocol', '--log-level']);

/** Whether the command line may need plugin subcommands (dump runc, helper commands, ...). */
export function needsPlugins(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return true;
    if (VALUE_FLAGS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return !PLUGIN_FREE.has(arg);
  }
  return !args.includes('--version'); // `cedana --version` alone needs nothing
}

/** The value of --config on the command line, read before yargs runs (plugins.dir may come from it). */
export function configFlag(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return undefined;
    if (arg === '--config') return args[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}
