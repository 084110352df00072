import type { CedanaError } from './errors.js';
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
