import type { CedanaError, ErrorSpec } from './errors.js';
import type { FeatureValues } from './features.js';

/**
 * What a plugin package's ESM entry exports by default. Data only: the host does
 * the loading, checking and ordering. `definePlugin()` in @cedana/plugin-sdk only
 * adds types; a plain object of this shape loads too.
 */
export interface PluginDefinition {
  name: string;
  version: string;
  features: Partial<FeatureValues>;
  /**
   * Job types whose requests this plugin's middleware (DumpMiddleware, RestoreMiddleware,
   * RunMiddleware) runs for besides its own type: `'*'` for every type (plain `process`
   * jobs included), or a list such as `['process', 'runc']`. Omitted: its own type only.
   * It runs after the request type's own plugin's middleware (see docs/writing-plugins.md).
   */
  appliesTo?: '*' | readonly string[];
  /**
   * Error codes of this plugin only, each with its gRPC status and hint, named after it
   * (CEDANA_ERR_<NAME>_<WHAT>). Registered at load; a code core or another plugin owns is refused.
   */
  errors?: Readonly<Record<string, ErrorSpec>>;
}

/**
 * Names no plugin may take: the types the core serves itself (`process`) and the CLI's own
 * subcommands of `dump`/`restore` (`job`). A plugin named so would never run.
 */
export const RESERVED_PLUGIN_NAMES = ['process', 'job'] as const;

/** True when a plugin declaring `appliesTo` wants its middleware in requests of `type`. */
export function appliesToType(definition: Pick<PluginDefinition, 'appliesTo'> | undefined, type: string): boolean {
  const to = definition?.appliesTo;
  return to === '*' || (Array.isArray(to) && to.includes(type));
}

/** The phases of loading a plugin, in order; a failure names its phase. */
export const LOAD_PHASES = ['resolve', 'manifest', 'engines', 'import', 'shape'] as const;
export type LoadPhase = (typeof LOAD_PHASES)[number];

/** One record per plugin found, loaded or not: a load failure is data, not a crash. */
export interface LoadedPlugin {
  name: string;
  version: string;
  /** Folder of the installed package. */
  path: string;
  status: 'ok' | 'error';
  error?: CedanaError;
  phase?: LoadPhase;
  definition?: PluginDefinition;
  /** Milliseconds the import took. */
  loadMs?: number;
}

/** The `cedana` field of a plugin's package.json. */
export interface PluginManifest {
  /** Short name, e.g. "runc": the request type and the CLI subcommand it serves. */
  plugin: string;
  /** Host versions it works with (a semver range). */
  engines: string;
  /** "supported" or "experimental" */
  type?: string;
}
