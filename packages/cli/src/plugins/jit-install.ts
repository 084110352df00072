/**
 * Just-in-time install: `cedana dump runc ...` names a first-party runtime plugin that is not
 * installed. Without this, yargs would only say "Unknown arguments: id, runc". It says which
 * plugin is missing and how to get it; with --install (or config plugins.auto_install) it
 * installs it (from plugins.registry, else the local catalog) and goes on.
 */
import { CedanaError, FIRST_PARTY, type LoadedPlugin, loadConfig } from '@cedana/core';
import { EXIT } from '../exit-codes.js';
import { GLOBAL_VALUE_FLAGS } from '../global-options.js';
import { Session } from '../session.js';
import { configFlag } from './load.js';

/** The commands a runtime plugin adds a subcommand to. */
const RUNTIME_COMMANDS = ['dump', 'restore', 'run', 'manage', 'query'];

export const INSTALL_FLAG = '--install';

/** The first-party runtime plugin `args` names as a subcommand (`dump runc`) when it is not installed; throws when it is but failed to load. */
export function missingRuntimePlugin(args: readonly string[], plugins: readonly LoadedPlugin[]): string | undefined {
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const arg = args[i] as string;
    if (arg === '--') break;
    if (GLOBAL_VALUE_FLAGS.includes(arg)) i++;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  const [command, sub] = words;
  if (!command || !sub || !RUNTIME_COMMANDS.includes(command)) return undefined;
  const known = FIRST_PARTY.find((p) => p.name === sub && p.role === 'runtime');
  if (!known) return undefined;
  const found = plugins.find((p) => p.name === sub);
  if (found?.status === 'error') {
    throw new CedanaError(
      found.error?.code ?? 'CEDANA_ERR_PLUGIN_IMPORT',
      `the ${sub} plugin is installed but failed to load: ${found.error?.message}`,
      {
        hint: `\`cedana features --errors\` shows why; \`cedana plugin install ${sub} --force\` reinstalls it`,
      },
    );
  }
  return found ? undefined : sub;
}

/**
 * When the command line names a missing first-party runtime plugin: installs it and returns
 * the command line without --install and the plugins loaded again, or refuses (throws).
 * Otherwise returns the command line without --install, and `plugins` as they were.
 */
export async function installMissingRuntime(
  session: Session,
  args: readonly string[],
  plugins: readonly LoadedPlugin[],
): Promise<{ args: string[]; plugins: readonly LoadedPlugin[] }> {
  const dashDash = args.indexOf('--');
  const own = dashDash < 0 ? args : args.slice(0, dashDash);
  const wantsInstall = own.includes(INSTALL_FLAG);
  const rest = wantsInstall ? args.filter((a, i) => a !== INSTALL_FLAG || (dashDash >= 0 && i > dashDash)) : [...args];
  const name = missingRuntimePlugin(rest, plugins);
  if (!name) return { args: rest, plugins };
  const config = loadConfig({ path: configFlag(rest), env: session.deps.env });
  if (!wantsInstall && !config['plugins.auto_install']) {
    throw new CedanaError('CEDANA_ERR_UNSUPPORTED_TYPE', `${name} plugin not installed: cedana plugin install ${name}`, {
      hint: `or add ${INSTALL_FLAG} to install it and go on (config plugins.auto_install: true always does)`,
    });
  }
  session.err(`${name} plugin not installed: installing it (${wantsInstall ? INSTALL_FLAG : 'plugins.auto_install'})`);
  // Its own session: the install's config and client must not become the command's.
  const installing = new Session(session.deps);
  await (await import('../commands/plugin-install.js')).install(installing, { specs: [name], config: configFlag(rest) });
  installing.finish();
  if (installing.exitCode !== EXIT.OK) {
    throw new CedanaError('CEDANA_ERR_PLUGIN_INSTALL', `${name} could not be installed, so the command did not run`, {
      hint: `see the error above; \`cedana plugin install ${name}\` tries again`,
    });
  }
  return { args: rest, plugins: await session.reloadPlugins(config['plugins.dir']) };
}
