export {
  type Adapter,
  type BaseContext,
  type HandlerFn,
  type Logger,
  type Middleware,
  withAdapters,
} from './adapter.js';
export {
  COMPRESSIONS,
  CONFIG_KEYS,
  type Compression,
  type Config,
  type ConfigKey,
  compressionOf,
  DEFAULT_CONFIG_PATH,
  envName,
  type LoadConfigOptions,
  loadConfig,
  pluginConfig,
} from './config.js';
export {
  CedanaError,
  type CedanaErrorOptions,
  ERROR_CODE_PATTERN,
  ERRORS,
  type ErrorCode,
  type ErrorSpec,
  errorSpec,
  type GrpcStatusName,
  isCedanaError,
  PLUGIN_ERRORS,
  type PluginErrorCode,
  toCedanaError,
} from './errors.js';
export { errorFromTrailer, type FailedCall } from './failed-call.js';
export { type Exported, Feature, inPlugin, type PluginSource, pluginSource, wrapPluginError } from './feature.js';
export type {
  CheckpointStorage,
  FeatureName,
  FeatureValues,
  HelperCommand,
  ImageReaderFn,
  ObjectDownload,
  ObjectRanges,
  ObjectUpload,
  OptionSpec,
  PartBuffers,
  PluginCommand,
  StorageClient,
} from './features.js';
export * as features from './features.js';
export { FIRST_PARTY, type FirstParty, firstParty, firstPartyFor, packageOf } from './first-party.js';
export type { HealthCheck, HealthIssue, HealthResult } from './health.js';
export { escapeOf, insideFolder, isPlainName } from './inside-folder.js';
export {
  type CheckpointManifest,
  type FileDigest,
  type FilePieces,
  fromFormat1,
  isCoreFact,
  MANIFEST_FORMAT,
  type ManifestFacts,
  type ManifestJob,
  type ManifestMount,
  type ManifestSection,
  type RecordedCriuOptions,
  sectionOf,
  unreadManifest,
} from './manifest.js';
export { featureMatrix } from './matrix.js';
export { checkName, fileNameFor, isValidName, NAME_PATTERN, NAME_RULE, type NamedThing } from './names.js';
export type {
  ArrivingImages,
  CriuOptions,
  DumpAdapter,
  DumpContext,
  DumpHandlerFn,
  DumpMiddleware,
  ExitStatus,
  ManageContext,
  ManageHandlerFn,
  Measured,
  PageChannel,
  ProgressFn,
  QueryHandlerFn,
  RestoreAdapter,
  RestoreContext,
  RestoreHandlerFn,
  RestoreIo,
  RestoreMiddleware,
  ResumeGate,
  RunAdapter,
  RunContext,
  RunHandlerFn,
  RunMiddleware,
  Started,
  StdioOwner,
} from './pipelines.js';
export {
  appliesToType,
  isRole,
  LOAD_PHASES,
  type LoadedPlugin,
  type LoadPhase,
  type PluginDefinition,
  type PluginManifest,
  RESERVED_PLUGIN_NAMES,
  ROLES,
  type Role,
} from './plugin.js';
export { errorPrefixOf, pluginErrorCodes, registerPluginErrors } from './plugin-errors.js';
export {
  fdTarget,
  isAlive,
  openFds,
  parentPid,
  processStartTime,
  processState,
  processTree,
  sessionAndTty,
  statFields,
  untilGone,
} from './proc.js';
export { type ProfileNode, Profiler } from './profiling.js';
export { baseOf, type ContextSlots, contextSlots, pluginView, RequestState, type StateKey, stateKey } from './request-context.js';
export * as shape from './shape.js';
export { signalName, signalNumber } from './signals.js';
export { Steps } from './steps.js';
export {
  type ClientTls,
  clientTlsOf,
  type Dialer,
  hostPortOf,
  plainToTls,
  type ServerTls,
  serverTlsOf,
  speaksTls,
  tlsConnectOptions,
  tlsFailure,
  tlsHandshake,
} from './tls.js';
export { HOST_VERSION } from './version.js';
export { atLeastVersion, newestFirst } from './versions.js';
export * as wire from './wire.js';
