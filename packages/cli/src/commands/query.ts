/** `cedana query TYPE`: asks the daemon (and the plugin of TYPE) for information; prints JSON. */
import { features, type LoadedPlugin } from '@cedana/core';
import type { QueryReq } from '@cedana/core/proto';
import type { Argv, CommandModule } from 'yargs';
import { addPluginOptions, type PluginCmd, pluginCommands, pluginDetails } from '../plugins/commands.js';
import { action, type GlobalArgs, type Session } from '../session.js';

async function query(session: Session, argv: GlobalArgs, req: QueryReq): Promise<void> {
  const resp = await (await session.client(argv)).query(req);
  session.json(resp.result ?? {});
}

function pluginQueryCommand(session: Session, pc: PluginCmd): CommandModule {
  return {
    command: pc.plugin,
    describe: pc.cmd.describe,
    builder: (y: Argv) => addPluginOptions(y, pc.cmd.options),
    handler: action<GlobalArgs>(session, (argv) =>
      query(session, argv, { type: pc.plugin, details: pluginDetails(pc, features.QueryCmd.symbol, argv as Record<string, unknown>) }),
    ),
  };
}

export function queryCommand(session: Session, plugins: readonly LoadedPlugin[]): CommandModule {
  return {
    command: 'query <type>',
    describe: 'Query the daemon about a type of workload (prints JSON)',
    builder: (y: Argv) => {
      let out = y;
      for (const pc of pluginCommands(plugins, features.QueryCmd, [])) out = out.command(pluginQueryCommand(session, pc));
      return out.command({
        command: '$0 <type>',
        describe: 'Query TYPE with no plugin flags',
        builder: (q: Argv) => q.positional('type', { type: 'string', describe: 'process, or a plugin type' }),
        handler: action<GlobalArgs & { type: string }>(session, (argv) => query(session, argv, { type: argv.type, details: undefined })),
      });
    },
    handler: () => {},
  };
}
