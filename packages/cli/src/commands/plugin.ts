import { FIRST_PARTY } from '@cedana/core';
/**
 * `cedana plugin install|list|update|remove|inspect|sdk|features` (alias `plugins`).
 * The install machinery (pacote, npm) is imported only by the commands that use it,
 * so every other command starts without it.
 */
import type { Argv, CommandModule } from 'yargs';
import { formatSize, renderTable } from '../output/table.js';
import type { PluginRow } from '../plugins/status.js';
import { action, type GlobalArgs, type Session } from '../session.js';
import { featuresCommand } from './features.js';

export interface PluginArgs extends GlobalArgs {
  registry?: string;
  fetchTimeout?: number;
  json?: boolean;
}

export function renderPluginRows(rows: readonly PluginRow[]): string {
  return renderTable(
    ['NAME', 'TYPE', 'STATUS', 'INSTALLED', 'LATEST', 'SIZE', 'LOAD', 'PACKAGE'],
    rows.map((r) => [
      r.plugin,
      r.type,
      r.status,
      r.installed,
      r.latest,
      r.size ? formatSize(r.size) : undefined,
      r.load === 'error' ? `error: ${r.error?.code} (${r.error?.phase ?? 'import'})` : r.load,
      r.name,
    ]),
  );
}

/** --registry and --fetch-timeout, for the commands that fetch. */
export function fetchOptions(y: Argv): Argv {
  return y
    .option('registry', { type: 'string', describe: 'npm registry URL (default: config plugins.registry; none: the local catalog)' })
    .option('fetch-timeout', { type: 'number', default: 60, describe: 'seconds to wait for each answer of the registry' });
}

export function pluginCommand(session: Session): CommandModule {
  return {
    command: ['plugin', 'plugins'],
    describe: 'Plugins: install, list, update, remove, inspect them, show their features',
    builder: (y: Argv) =>
      y
        .command({
          command: 'install <specs..>',
          describe:
            'Install plugins: a short name (`cedana plugin list` shows the first-party ones), an npm package (name@range), a .tgz file or a folder',
          builder: (i: Argv) =>
            fetchOptions(i.positional('specs', { type: 'string', array: true, describe: 'what to install' }))
              .option('allow-scripts', { type: 'boolean', default: false, describe: 'run install scripts (off by default)' })
              .option('force', {
                type: 'boolean',
                default: false,
                describe: 'reinstall an unchanged version; install a plugin that fails to load',
              })
              .option('json', { type: 'boolean', describe: 'print JSON' })
              .example(
                `$0 plugin install ${FIRST_PARTY.slice(0, 2)
                  .map((p) => p.name)
                  .join(' ')}`,
                'first-party plugins, from the registry or the local catalog',
              )
              .example('$0 plugin install cedana-plugin-tag@^1 --registry http://127.0.0.1:4873', 'a third-party plugin from a registry')
              .example('$0 plugin install ./my-plugin-1.0.0.tgz', 'a tarball made by npm pack'),
          handler: action<PluginArgs & { specs: string[] }>(session, async (argv) =>
            (await import('./plugin-install.js')).install(session, argv),
          ),
        })
        .command({
          command: 'list',
          describe: 'List the first-party and installed plugins: status, versions, type, size',
          builder: (l: Argv) => fetchOptions(l).option('json', { type: 'boolean', describe: 'print JSON' }),
          handler: action<PluginArgs>(session, async (argv) => (await import('./plugin-list.js')).list(session, argv)),
        })
        .command({
          command: 'update [names..]',
          describe: 'Update installed plugins (all, or those named) to the latest version of their source',
          builder: (u: Argv) =>
            fetchOptions(u.positional('names', { type: 'string', array: true, describe: 'plugins to update (default: all)' }))
              .option('allow-scripts', { type: 'boolean', default: false, describe: 'run install scripts (off by default)' })
              .option('json', { type: 'boolean', describe: 'print JSON' }),
          handler: action<PluginArgs & { names?: string[] }>(session, async (argv) =>
            (await import('./plugin-install.js')).update(session, argv),
          ),
        })
        .command({
          command: 'remove <names..>',
          aliases: ['uninstall', 'rm'],
          describe: 'Remove installed plugins (refused while running jobs need them)',
          builder: (r: Argv) =>
            r
              .positional('names', { type: 'string', array: true, describe: 'plugins to remove' })
              .option('force', { type: 'boolean', default: false, describe: 'remove even when running jobs need the plugin' }),
          handler: action<PluginArgs & { names: string[]; force?: boolean }>(session, async (argv) =>
            (await import('./plugin-install.js')).remove(session, argv),
          ),
        })
        .command({
          command: 'inspect <name>',
          describe: 'Show an installed plugin: path, version, source, dependency tree, features',
          builder: (i: Argv) =>
            i.positional('name', { type: 'string', describe: 'plugin name' }).option('json', { type: 'boolean', describe: 'print JSON' }),
          handler: action<PluginArgs & { name: string }>(session, async (argv) =>
            (await import('./plugin-inspect.js')).inspect(session, argv),
          ),
        })
        .command({
          command: 'sdk',
          describe: 'Print the path of the plugin SDK tarball this cedana ships (npm install --save-dev "$(cedana plugin sdk)")',
          builder: (b: Argv) => b.option('json', { type: 'boolean', describe: 'print JSON: name, version, integrity, path' }),
          handler: action<PluginArgs>(session, async (argv) => (await import('./plugin-sdk.js')).sdk(session, argv)),
        })
        .command(featuresCommand(session, 'features [plugins..]'))
        .demandCommand(1, 'name a plugin command'),
    handler: () => {},
  };
}
