/** `cedana plugin list|features` (alias `plugins`). Install and remove come with the plugin registry work. */
import type { LoadedPlugin } from '@cedana/core';
import type { Argv, CommandModule } from 'yargs';
import { renderTable } from '../output/table.js';
import { action, type GlobalArgs, type Session } from '../session.js';
import { featuresCommand } from './features.js';

export function renderPlugins(plugins: readonly LoadedPlugin[]): string {
  const rows = plugins.map((p) => [
    p.name,
    p.version,
    p.status,
    p.loadMs === undefined ? undefined : `${p.loadMs} ms`,
    p.path,
    p.error ? `${p.error.code} (${p.phase ?? 'import'})` : undefined,
  ]);
  return renderTable(['NAME', 'VERSION', 'STATUS', 'LOAD', 'PATH', 'ERROR'], rows);
}

/** The JSON of `plugin list --json`: the records without the loaded code. */
export function pluginRecords(plugins: readonly LoadedPlugin[]): object[] {
  return plugins.map((p) => ({
    name: p.name,
    version: p.version,
    path: p.path,
    status: p.status,
    ...(p.loadMs === undefined ? {} : { loadMs: p.loadMs }),
    ...(p.error ? { phase: p.phase, error: { code: p.error.code, message: p.error.message, hint: p.error.hint } } : {}),
  }));
}

export function pluginCommand(session: Session): CommandModule {
  return {
    command: ['plugin', 'plugins'],
    describe: 'Installed plugins: list them, show their features',
    builder: (y: Argv) =>
      y
        .command({
          command: 'list',
          describe: 'List the installed plugins with their load status',
          builder: (l: Argv) => l.option('json', { type: 'boolean', describe: 'print JSON' }),
          handler: action<GlobalArgs & { json?: boolean }>(session, async (argv) => {
            const dir = session.config(argv)['plugins.dir'];
            const plugins = await session.plugins(dir);
            if (argv.json) return session.json(pluginRecords(plugins));
            session.out(plugins.length === 0 ? `no plugins installed in ${dir}` : renderPlugins(plugins));
          }),
        })
        .command(featuresCommand(session, 'features [plugins..]'))
        .demandCommand(1, 'name a plugin command'),
    handler: () => {},
  };
}
