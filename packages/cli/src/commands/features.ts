/**
 * `cedana features [plugin...]` (also `cedana plugin features`): the matrix of
 * feature symbols x installed plugins. It loads the plugins itself, so it works
 * without a daemon; --errors lists every load and shape error (exit 1 if any), and what
 * plugin code threw at run time, as the daemon recorded it (when a daemon answers).
 */
import { FIRST_PARTY, isCedanaError } from '@cedana/core';
import type { PluginFault } from '@cedana/core/proto';
import type { Argv, CommandModule } from 'yargs';
import { EXIT } from '../exit-codes.js';
import { featureMatrix, matrixErrors } from '../features/matrix.js';
import { renderErrors, renderFaults, renderMatrix } from '../features/print.js';
import { action, type GlobalArgs, type Session } from '../session.js';

interface FeaturesArgs extends GlobalArgs {
  plugins?: string[];
  errors?: boolean;
  json?: boolean;
}

export function featuresCommand(session: Session, command = 'features [plugins..]'): CommandModule {
  return {
    command,
    describe: 'Show which installed plugin exports which feature',
    builder: (y: Argv) =>
      y
        .positional('plugins', { type: 'string', array: true, describe: 'only these plugins' })
        .option('errors', { type: 'boolean', describe: 'also list every plugin load and shape error (exit 1 if any)' })
        .option('json', { type: 'boolean', describe: 'print JSON' })
        .example(
          `$0 features ${FIRST_PARTY.slice(0, 2)
            .map((p) => p.name)
            .join(' ')}`,
          'the columns of two plugins',
        )
        .example('$0 features --errors', 'why a plugin is missing or broken'),
    handler: action<FeaturesArgs>(session, async (argv) => {
      const dir = session.config(argv)['plugins.dir'];
      const all = await session.plugins(dir);
      const names = (argv.plugins ?? []).map(String);
      for (const name of names) if (!all.some((p) => p.name === name)) session.err(`plugin "${name}" is not installed in ${dir}`);
      const plugins = names.length === 0 ? all : all.filter((p) => names.includes(p.name));
      const faults = argv.errors || argv.json ? await daemonFaults(session, argv, names) : [];
      const matrix = { ...featureMatrix(plugins), faults };
      const errors = matrixErrors(matrix, plugins);
      if (argv.json) session.json(argv.errors ? { ...matrix, errors } : matrix);
      else {
        if (all.length === 0) session.err(`no plugins installed in ${dir}`);
        session.out(renderMatrix(matrix));
        if (argv.errors) session.out(`\nErrors:\n${renderErrors(errors)}`);
        if (argv.errors && faults.length > 0)
          session.out(`\nThrown by plugin code while the daemon served requests:\n${renderFaults(faults)}`);
      }
      if (argv.errors && errors.length > 0) session.exitCode = EXIT.FAILED;
    }),
  };
}

/** What plugin code threw in the daemon (the Features RPC's faults); none when no daemon answers. */
async function daemonFaults(session: Session, argv: FeaturesArgs, names: string[]): Promise<PluginFault[]> {
  try {
    const faults = (await (await session.client(argv)).features({})).faults ?? []; // an older daemon sends none
    return names.length === 0 ? faults : faults.filter((f) => names.includes(f.plugin));
  } catch (err) {
    if (isCedanaError(err) && err.code === 'CEDANA_ERR_DAEMON_UNREACHABLE') return [];
    throw err;
  }
}
