/** `cedana plugin list`: every first-party and installed plugin, without the install machinery (pacote, npm, the loader). */
import { scanInstalled } from '../plugins/installed.js';
import { fetchOptionsOf, latestOf } from '../plugins/source.js';
import { pluginRows } from '../plugins/status.js';
import type { Session } from '../session.js';
import { type PluginArgs, renderPluginRows } from './plugin.js';

export async function list(session: Session, argv: PluginArgs): Promise<void> {
  const config = session.config(argv);
  const pluginsDir = config['plugins.dir'];
  const opts = await fetchOptionsOf(config, argv);
  const [found, loaded] = await Promise.all([scanInstalled(pluginsDir), session.plugins(pluginsDir)]);
  const problems: string[] = [];
  const latest = latestOf(opts, (name, err) => problems.push(`${name}: ${err.message}`));
  const rows = await pluginRows(found, loaded, latest);
  for (const p of problems.slice(0, 3)) session.err(`latest version unknown for ${p}`);
  if (argv.json) return session.json(rows);
  session.out(renderPluginRows(rows));
}
