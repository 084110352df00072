/**
 * `cedana plugin sdk`: the path of the plugin SDK's tarball shipped with this cedana (in the
 * local catalog), so a plugin author depends on it with no registry:
 *   npm install --save-dev "$(cedana plugin sdk)"
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CedanaError } from '@cedana/core';
import { catalogDir, readCatalog } from '../plugins/catalog.js';
import type { Session } from '../session.js';
import type { PluginArgs } from './plugin.js';

export async function sdk(session: Session, argv: PluginArgs): Promise<void> {
  const catalog = await readCatalog(catalogDir(session.config(argv)['plugins.catalog']));
  const entry = catalog.sdk;
  const file = entry ? join(catalog.dir, entry.file) : '';
  if (!entry || !existsSync(file)) {
    throw new CedanaError(
      'CEDANA_ERR_PLUGIN_NOT_FOUND',
      `no plugin SDK tarball in the local catalog ${catalog.dir}${catalog.problem ? ` (${catalog.problem})` : ''}`,
      {
        hint: 'the build packs it (`pnpm build`, or scripts/setup.sh); set plugins.catalog if your catalog lives elsewhere',
      },
    );
  }
  if (argv.json) return session.json({ ...entry, path: file });
  session.out(file);
}
