/**
 * Every feature symbol a plugin may export: the only place a symbol is born
 * (as Cedana's pkg/features/supported.go). Everything else (the SDK's types, the
 * `cedana features` matrix, docs/writing-plugins.md) is derived from FEATURES.
 * Changing a value type incompatibly means a new symbol, never a quiet change.
 */

import { Feature } from './feature.js';
import type { HealthCheck } from './health.js';
import type {
  DumpHandlerFn,
  DumpMiddleware as DumpMiddlewareT,
  ManageHandlerFn,
  QueryHandlerFn,
  RestoreAdapter,
  RestoreHandlerFn,
  RestoreMiddleware as RestoreMiddlewareT,
  RunAdapter,
  RunHandlerFn,
  RunMiddleware as RunMiddlewareT,
} from './pipelines.js';
import type { Job } from './proto/gen/cedana/daemon/v1/types.js';
import { arrayOf, fn, objectWith, string } from './shape.js';

/** A flag of a plugin's CLI subcommand, in yargs' option terms. */
export interface OptionSpec {
  type: 'string' | 'number' | 'boolean' | 'array';
  describe: string;
  alias?: string;
  demandOption?: boolean;
  default?: unknown;
  choices?: readonly string[];
}

/** `cedana dump|restore|run|manage|query <plugin>`: the plugin's own flags, turned into its request details. */
export interface PluginCommand {
  describe: string;
  options?: Record<string, OptionSpec>;
  /** Builds `details[pluginName]` of the request from the parsed flags. */
  details?(argv: Record<string, unknown>): Record<string, unknown>;
}

/** A top-level command a plugin adds to the CLI. */
export interface HelperCommand {
  command: string;
  describe: string;
  options?: Record<string, OptionSpec>;
  handler(argv: Record<string, unknown>): Promise<void>;
}

/** Moves checkpoints to and from a storage a URL scheme names (e.g. `s3://`). */
export interface CheckpointStorage {
  scheme: string;
  put(localPath: string, url: string): Promise<void>;
  get(url: string, localPath: string): Promise<void>;
}

const command = objectWith<PluginCommand>({
  describe: string,
  'options?': { expected: 'an object', test: (v): v is object => typeof v === 'object' && v !== null },
  'details?': fn,
});
const helperCommand = objectWith<HelperCommand>({ command: string, describe: string, handler: fn });
const middleware = arrayOf(fn);
const storage = objectWith<CheckpointStorage>({ scheme: string, put: fn, get: fn });
const as = <T>(shape: { expected: string; test(v: unknown): boolean }) => shape as { expected: string; test(v: unknown): v is T };

// Commands
export const DumpCmd = new Feature('DumpCmd', 'Dump command', command);
export const RestoreCmd = new Feature('RestoreCmd', 'Restore command', command);
export const RunCmd = new Feature('RunCmd', 'Run command', command);
export const ManageCmd = new Feature('ManageCmd', 'Manage command', command);
export const QueryCmd = new Feature('QueryCmd', 'Query command', command);
export const HelperCmds = new Feature('HelperCmds', 'Helper commands', arrayOf(helperCommand));

// Dump and restore
export const DumpMiddleware = new Feature('DumpMiddleware', 'Dump middleware', as<DumpMiddlewareT>(middleware));
export const DumpHandler = new Feature('DumpHandler', 'Dump handler', as<DumpHandlerFn>(fn));
export const RestoreMiddleware = new Feature('RestoreMiddleware', 'Restore middleware', as<RestoreMiddlewareT>(middleware));
export const RestoreHandler = new Feature('RestoreHandler', 'Restore handler', as<RestoreHandlerFn>(fn));

// Run and manage
export const RunMiddleware = new Feature('RunMiddleware', 'Run middleware', as<RunMiddlewareT>(middleware));
export const RunHandler = new Feature('RunHandler', 'Run handler', as<RunHandlerFn>(fn));
export const ManageHandler = new Feature('ManageHandler', 'Manage handler', as<ManageHandlerFn>(fn));
export const KillSignal = new Feature('KillSignal', 'Kill signal', string);
export const Cleanup = new Feature('Cleanup', 'Cleanup handler', as<(job: Job) => Promise<void>>(fn));

// GPU
export const GPUInterceptor = new Feature('GPUInterceptor', 'GPU interceptor', as<RunAdapter>(fn));
export const GPUInterceptorRestore = new Feature('GPUInterceptorRestore', 'GPU interceptor (restore)', as<RestoreAdapter>(fn));

// Query
export const QueryHandler = new Feature('QueryHandler', 'Query handler', as<QueryHandlerFn>(fn));

// Health checks
export const HealthChecks = new Feature('HealthChecks', 'Health checks', as<HealthCheck[]>(arrayOf(fn)));

// Storage
export const CheckpointStorage = new Feature('CheckpointStorage', 'Checkpoint storage', storage);
/**
 * Reads CRIU images out of a checkpoint written in a plugin's own layout (the streamer's
 * shards): the images whose names `wanted` accepts, by name. `cedana checkpoint inspect`
 * calls it for checkpoints the plugin wrote.
 */
export type ImageReaderFn = (dir: string, wanted: (name: string) => boolean) => Promise<Map<string, Buffer>>;
export const ImageReader = new Feature('ImageReader', 'Image reader', as<ImageReaderFn>(fn));

// Version
export const Version = new Feature('Version', 'Version', string);

/** Every feature, in the order the matrix shows them. */
export const FEATURES = [
  DumpCmd,
  RestoreCmd,
  RunCmd,
  ManageCmd,
  QueryCmd,
  HelperCmds,
  DumpMiddleware,
  DumpHandler,
  RestoreMiddleware,
  RestoreHandler,
  RunMiddleware,
  RunHandler,
  ManageHandler,
  KillSignal,
  Cleanup,
  GPUInterceptor,
  GPUInterceptorRestore,
  QueryHandler,
  HealthChecks,
  CheckpointStorage,
  ImageReader,
  Version,
] as const;

export type FeatureName = (typeof FEATURES)[number]['symbol'];

/** The value type of each feature by name: what a plugin's `features` object may hold. */
export type FeatureValues = {
  [F in (typeof FEATURES)[number] as F['symbol']]: F extends Feature<infer T, string> ? T : never;
};
