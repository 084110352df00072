/**
 * The CLI loads the installed plugins itself (the same loader as the daemon), so
 * `features`, `plugin list` and the plugin subcommands (`dump runc`, ...) work
 * without a running daemon. The loader is imported lazily: command lines that cannot
 * involve a plugin (`ps`, `dump job J`, ..., see plugin-free.ts) skip it and start faster.
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
