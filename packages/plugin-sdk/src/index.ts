/**
 * @cedana/plugin-sdk: what a third party needs to write a Cedana plugin.
 * A plugin package's ESM entry default-exports `definePlugin({ name, version, features })`;
 * its package.json carries `"cedana": { "plugin": NAME, "engines": RANGE }`.
 */
import {
  type ErrorSpec,
  type FeatureValues,
  type PluginDefinition,
  type PluginErrorCode,
  type Role,
  registerPluginErrors,
} from '@cedana/core';

/** Types the features object at compile time; the host checks it again at load time. */
export function definePlugin<const F extends Partial<FeatureValues>>(definition: {
  name: string;
  version: string;
  features: F;
  /** Job types its Dump/Restore/RunMiddleware also runs for: '*' (every type, `process` too) or a list. */
  appliesTo?: '*' | readonly string[];
  /** The role it fills (ROLES: engine, runtime, streams, accelerator, storage): how the daemon finds it, never by name. */
  role?: Role;
  /** Roles it needs other plugins to fill (e.g. ['engine']). */
  requires?: readonly Role[];
  /** Its own error codes, CEDANA_ERR_<NAME>_<WHAT>: { status: gRPC status name, hint: what to do next }. */
  errors?: Readonly<Record<PluginErrorCode, ErrorSpec>>;
}): PluginDefinition {
  // Registered now too, so that the plugin's own tests see its hints; the host's loader
  // registers them again at load and refuses the plugin there if a code is not its own.
  registerPluginErrors(definition.name, definition.errors);
  return definition;
}

export {
  type Adapter,
  type ArrivingImages,
  atLeastVersion,
  type BaseContext,
  CedanaError,
  type CedanaErrorOptions,
  type CheckpointManifest,
  type CheckpointStorage,
  type Config,
  type ContextSlots,
  type CriuOptions,
  contextSlots,
  type DumpAdapter,
  type DumpContext,
  type DumpHandlerFn,
  type DumpMiddleware,
  type ErrorCode,
  type ErrorSpec,
  type ExitStatus,
  errorFromTrailer,
  type FailedCall,
  type FeatureName,
  type FeatureValues,
  type FileDigest,
  fdTarget,
  type HandlerFn,
  type HealthCheck,
  type HealthIssue,
  type HealthResult,
  type HelperCommand,
  HOST_VERSION,
  type ImageReaderFn,
  inPlugin,
  isAlive,
  isCedanaError,
  type Logger,
  type ManageContext,
  type ManageHandlerFn,
  type ManifestFacts,
  type ManifestJob,
  type ManifestSection,
  type Measured,
  type Middleware,
  type ObjectDownload,
  type ObjectRanges,
  type ObjectUpload,
  type OptionSpec,
  openFds,
  type PageChannel,
  type PartBuffers,
  type PluginCommand,
  type PluginDefinition,
  type PluginErrorCode,
  type PluginSource,
  type ProgressFn,
  parentPid,
  pluginConfig,
  pluginSource,
  pluginView,
  processStartTime,
  processState,
  processTree,
  type QueryHandlerFn,
  RequestState,
  type RestoreAdapter,
  type RestoreContext,
  type RestoreHandlerFn,
  type RestoreIo,
  type RestoreMiddleware,
  type ResumeGate,
  ROLES,
  type Role,
  type RunAdapter,
  type RunContext,
  type RunHandlerFn,
  type RunMiddleware,
  type Started,
  type StateKey,
  type StdioOwner,
  Steps,
  type StorageClient,
  sectionOf,
  sessionAndTty,
  signalName,
  signalNumber,
  stateKey,
  statFields,
  untilGone,
} from '@cedana/core';
export type {
  CheckpointStats,
  DumpReq,
  DumpResp,
  Job,
  ManageReq,
  ManageResp,
  QueryReq,
  RestoreReq,
  RestoreResp,
  RunReq,
  RunResp,
} from '@cedana/core/messages';
// Helpers plugins share (plugins can share code only through the SDK); spawnJob is how the daemon starts `run process` jobs.
export { cleanExec, spawnClean } from './helpers/clean-spawn.js';
export { criuErrorLines, criuErrors, criuHeadline } from './helpers/criu-log.js';
export { adapterOnDemand, onDemand } from './helpers/on-demand.js';
export { findOnPath } from './helpers/search-path.js';
export { parseShimEvent, type ShimEvent, shimExitStatus } from './helpers/shim-events.js';
export { resolveProgram, type SpawnedJob, type SpawnJobOptions, spawnJob } from './helpers/spawn-job.js';
