import type { CedanaError, ErrorSpec } from './errors.js';
import type { FeatureName, FeatureValues } from './features.js';

/**
 * The roles a plugin may fill: how the daemon and the CLI find a plugin for a job, never
 * by its name. `features` are those a plugin of the role must export (checked at load).
 */
export const ROLES = {
  engine: {
    describe: 'the final dump and restore of every job type that brings no handler of its own (`process` jobs included)',
    features: ['DumpHandler', 'RestoreHandler'],
  },
  runtime: {
    describe: 'a job type of its own, named after the plugin (`cedana run|dump|restore NAME ...`)',
    features: [],
  },
  streams: {
    describe: 'checkpoints written and read as parallel streams (`--streams N`), fed by the engine',
    features: ['DumpMiddleware', 'RestoreMiddleware'],
  },
  accelerator: {
    describe: 'GPU state of jobs started with `--gpu-enabled`, checkpointed around the engine',
    features: ['GPUInterceptor', 'GPUInterceptorRestore', 'DumpMiddleware', 'RestoreMiddleware'],
  },
  storage: {
    describe: 'checkpoints kept under a URL scheme (`s3://...`)',
    features: ['CheckpointStorage'],
  },
} as const satisfies Record<string, { describe: string; features: readonly FeatureName[] }>;

export type Role = keyof typeof ROLES;

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && Object.hasOwn(ROLES, v);
}

/**
 * What a plugin package's ESM entry exports by default. Data only: the host does
 * the loading, checking and ordering. `definePlugin()` in @cedana/plugin-sdk only
 * adds types; a plain object of this shape loads too.
 */
export interface PluginDefinition {
  name: string;
  version: string;
  features: Partial<FeatureValues>;
  /** The role it fills (see ROLES); omitted: none (e.g. a hook plugin with `appliesTo`). */
  role?: Role;
  /** Roles it needs another plugin to fill (the streams role needs an engine): a request fails naming the missing one. */
  requires?: readonly Role[];
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
 * Names no plugin may take: the types the core serves itself (`process`), the CLI's own
 * subcommands of `dump`/`restore` (`job`) and the roles (a request's details addressed to a
 * role go to the plugin that fills it). A plugin named so would never run.
 */
export const RESERVED_PLUGIN_NAMES = ['process', 'job', ...(Object.keys(ROLES) as Role[])] as const;

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
