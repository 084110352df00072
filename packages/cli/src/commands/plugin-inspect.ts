/** `cedana plugin inspect NAME`: where an installed plugin is, where it came from, what it needs and exports. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError, type Feature, features, HOST_VERSION } from '@cedana/core';
import { HOST_PROVIDED } from '@cedana/daemon/plugins';
import { formatSize, formatTime } from '../output/table.js';
import { dependencyTree, renderTree } from '../plugins/dep-tree.js';
import { du } from '../plugins/disk-size.js';
import { scanInstalled } from '../plugins/installed.js';
import type { Session } from '../session.js';
import type { PluginArgs } from './plugin.js';

export async function inspect(session: Session, argv: PluginArgs & { name: string }): Promise<void> {
  const pluginsDir = session.config(argv)['plugins.dir'];
  const found = (await scanInstalled(pluginsDir)).find((p) => p.plugin === argv.name && p.version);
  if (!found) {
    throw new CedanaError('CEDANA_ERR_PLUGIN_NOT_FOUND', `plugin "${argv.name}" is not installed in ${pluginsDir}`, {
      hint: '`cedana plugin list` shows what is installed',
    });
  }
  const path = join(found.dir, found.version);
  const pkg = JSON.parse(await readFile(join(path, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    cedana?: { engines?: string };
  };
  const roots = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).filter(
    (d) => !(HOST_PROVIDED as readonly string[]).includes(d),
  );
  const loaded = (await session.plugins(pluginsDir)).find((p) => p.name === argv.name);
  const exported = (loaded?.definition?.features ?? {}) as Record<string, unknown>;
  const featureStates = (features.FEATURES as readonly Feature<unknown>[])
    .filter((f) => exported[f.symbol] !== undefined)
    .map((f) => ({ symbol: f.symbol, state: f.shape.test(exported[f.symbol]) ? 'exported' : 'incompatible' }));
  const info = {
    plugin: found.plugin,
    name: found.name,
    version: found.version,
    path,
    source: found.record?.source ?? 'unknown',
    resolved: found.record?.resolved ?? '',
    integrity: found.record?.integrity ?? '',
    installedAt: found.record?.installedAt ?? '',
    engines: pkg.cedana?.engines ?? '',
    hostVersion: HOST_VERSION,
    size: await du(path),
    status: loaded?.status ?? 'error',
    ...(loaded?.error
      ? { error: { code: loaded.error.code, phase: loaded.phase, message: loaded.error.message, hint: loaded.error.hint } }
      : {}),
    features: featureStates,
    // job types its middleware runs for besides its own (definePlugin's appliesTo)
    appliesTo: loaded?.definition?.appliesTo ?? [],
    // its own error codes (definePlugin's errors), as registered when it loaded
    errors: Object.entries(loaded?.definition?.errors ?? {}).map(([code, e]) => ({ code, status: e.status, hint: e.hint })),
    dependencies: await dependencyTree(path, roots),
  };
  if (argv.json) return session.json(info);
  const lines = [
    `plugin       ${info.plugin}`,
    `package      ${info.name}`,
    `version      ${info.version}`,
    `path         ${info.path}`,
    `source       ${info.source}${info.resolved ? ` (${info.resolved})` : ''}`,
    `integrity    ${info.integrity || '-'}`,
    `installed    ${formatTime(info.installedAt)}`,
    `engines      ${info.engines} (this cedana: ${HOST_VERSION})`,
    `size         ${formatSize(info.size)}`,
    `status       ${info.status}${loaded?.loadMs !== undefined ? ` (imported in ${loaded.loadMs} ms)` : ''}`,
    ...(info.error
      ? [`error        [${info.error.code}] (${info.error.phase}) ${info.error.message}`, `hint         ${info.error.hint}`]
      : []),
    `features     ${featureStates.map((f) => (f.state === 'exported' ? f.symbol : `${f.symbol} (incompatible)`)).join(', ') || '-'}`,
    `applies to   ${info.appliesTo === '*' ? 'every job type' : [info.plugin, ...info.appliesTo].join(', ')}`,
    `error codes  ${info.errors.map((e) => `${e.code} (${e.status})`).join(', ') || '-'}`,
    `dependencies${info.dependencies.length === 0 ? '  none (the host provides @cedana/plugin-sdk)' : ''}`,
    ...renderTree(info.dependencies, '  '),
  ];
  session.out(lines.join('\n'));
}
