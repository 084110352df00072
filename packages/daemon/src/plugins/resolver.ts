/**
 * Which plugin does X: the one place the daemon answers it, by role (ROLES in
 * @cedana/core), never by a plugin's name. Pipelines (the engine's final handler, the
 * streams and accelerator steps), validation, `checkpoint inspect`, health and migration
 * ask here; a request whose role nobody fills fails naming the role, the plugins that
 * could fill it and how to install one.
 */
import { CedanaError, firstPartyFor, isRole, type LoadedPlugin, type PluginSource, ROLES, type Role } from '@cedana/core';

/** The loaded plugin that fills `role` (the first by name when several do); undefined when none does. */
export function filling(from: PluginSource, role: Role): LoadedPlugin | undefined {
  return from.plugins().find((p) => p.status === 'ok' && p.definition?.role === role);
}

/**
 * The plugin that fills `role`, with the roles it requires filled too; otherwise
 * CEDANA_ERR_ROLE_MISSING for `what` (what the request asked for, e.g. `--streams 2`).
 */
export function requireRole(from: PluginSource, role: Role, what: string): LoadedPlugin {
  const plugin = filling(from, role);
  if (!plugin) throw roleMissing(from, role, what);
  for (const needed of plugin.definition?.requires ?? []) {
    if (needed !== role) requireRole(from, needed, `${what} (through plugin "${plugin.name}", role ${role})`);
  }
  return plugin;
}

/** The error for a role that no loaded plugin fills: which role, which plugins could, how to get one. */
export function roleMissing(from: PluginSource, role: Role, what: string): CedanaError {
  const could = firstPartyFor(role);
  const failed = from.plugins().filter((p) => p.status !== 'ok' && could.includes(p.name));
  const why = failed.map((p) => `; plugin "${p.name}" is installed but failed to load: ${p.error?.message ?? 'unknown error'}`).join('');
  const install = could.map((name) => `\`cedana plugin install ${name}\``).join(' or ');
  return new CedanaError(
    'CEDANA_ERR_ROLE_MISSING',
    `${what} needs a plugin in the "${role}" role (${ROLES[role].describe}), and no loaded plugin fills it${why}` +
      (could.length ? ` (plugins that fill it: ${could.join(', ')})` : ''),
    {
      hint: `${install ? `install one: ${install}` : `install a plugin that declares role "${role}"`}; \`cedana features --errors\` shows why a plugin did not load`,
    },
  );
}

/**
 * A request's `details` with the sections the CLI addressed to a role (`--gpu` sends
 * `accelerator`, `restore --streams` sends `streams`) moved under the name of the plugin
 * that fills it, where every plugin reads its own; a role nobody fills keeps its key.
 */
export function addressedByRole(from: PluginSource, details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!details) return details;
  return Object.fromEntries(
    Object.entries(details).map(([key, value]) => {
      const plugin = isRole(key) ? filling(from, key) : undefined;
      return [plugin?.name ?? key, value];
    }),
  );
}
