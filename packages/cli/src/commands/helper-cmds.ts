/** Top-level commands that plugins add through HelperCmds (e.g. `cedana k8s-helper`). */
import { features, inPlugin, type LoadedPlugin } from '@cedana/core';
import type { Argv, CommandModule } from 'yargs';
import { addPluginOptions, pluginHelpers } from '../plugins/commands.js';
import { action, type Session } from '../session.js';

export function helperCommands(session: Session, plugins: readonly LoadedPlugin[], reserved: readonly string[]): CommandModule[] {
  return pluginHelpers(plugins, reserved).map(({ plugin, helper }) => ({
    command: helper.command,
    describe: `${helper.describe} (plugin ${plugin})`,
    builder: (y: Argv) => addPluginOptions(y, helper.options),
    handler: action<Record<string, unknown>>(session, (argv) => inPlugin(plugin, features.HelperCmds.symbol, () => helper.handler(argv))),
  }));
}
