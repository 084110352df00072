/**
 * Every feature symbol a plugin may export: the only place a symbol is born
 * (as Cedana's pkg/features/supported.go). Everything else (the SDK's types, the
 * `cedana features` matrix, docs/writing-plugins.md) is derived from FEATURES.
 * Changing a value type incompatibly means a new symbol, never a quiet change.
 */

import type { Readable, Writable } from 'node:stream';
import type { Config } from './config.js';
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

/**
 * The storage role: a plugin that keeps checkpoints under a URL scheme (`s3://bucket/prefix`).
 * The daemon finds it by `scheme`, never by the plugin's name, and streams every byte
 * through it: a dump's archive goes into `upload(...).stream` as it is packed, a restore
 * reads `download(...).stream` into the same unpacking and checks as a local archive.
 * Every error is a CedanaError with a code (CEDANA_ERR_STORAGE_*) that names the object.
 */
export interface CheckpointStorage {
  /** The URL scheme it stores, without `://` (e.g. `s3`). */
  scheme: string;
  /**
   * A client built from the daemon's config (`storage.<scheme>.*` keys) and the standard
   * environment; a promise of one lets the plugin import its client's code on first use, not
   * when the daemon loads it (storage-s3: the AWS SDK, ~15 MiB of a daemon that never sees s3://).
   */
  open(config: Config): StorageClient | Promise<StorageClient>;
}

export interface StorageClient {
  /** Fails with a coded error unless objects can be written under `url` (endpoint, credentials, bucket). */
  check(url: string): Promise<void>;
  /**
   * Writes the object at `url` from what is written to `stream`. With `reserve`, the object
   * starts with that many bytes that `finish(head)` supplies once the stream has ended.
   */
  upload(url: string, opts?: { reserve?: number; signal?: AbortSignal; onBytes?: (bytes: number) => void }): ObjectUpload;
  /** The object at `url` as a stream (ranges fetched in parallel, in order); a missing object fails naming it. */
  download(url: string, opts?: { signal?: AbortSignal; onBytes?: (bytes: number) => void }): Promise<ObjectDownload>;
  /**
   * The object at `url` read by position, in any order (a streamed checkpoint's shards,
   * served as CRIU asks): every range of the version seen at open; a missing object fails
   * naming it.
   */
  openRanges(url: string, opts?: { signal?: AbortSignal }): Promise<ObjectRanges>;
  /** The objects under the prefix `url`, by URL. */
  list(url: string): Promise<{ url: string; size: number }[]>;
  /** Removes the objects at `urls` (missing ones are no error). */
  remove(urls: string[]): Promise<void>;
}

export interface ObjectUpload {
  /** Where the object's bytes (after the reserved head) are written; end it when done. */
  stream: Writable;
  /** Completes the object once `stream` finished, the reserved head given; resolves with its size. */
  finish(head?: Buffer): Promise<{ size: number }>;
  /** Gives the object up: nothing of it remains (a multipart upload is aborted). */
  abort(): Promise<void>;
  /** Optional: the upload's own memory, for a source that reads straight into it instead of writing `stream` (then ends it). */
  parts?: PartBuffers;
}

/**
 * Memory of an upload that a reader fills with no copy (a FIFO's bytes read into the part
 * being filled): bounded, so when none is free the reader waits and its writer with it.
 */
export interface PartBuffers {
  /** The free room of the part being filled, or undefined while every part is in flight (wait for `ready`). */
  space(): Buffer | undefined;
  /** The first `n` bytes of the last `space()` were filled. */
  commit(n: number): void;
  /** Resolves once `space()` has room again; rejects if the upload failed. */
  ready(): Promise<void>;
}

export interface ObjectRanges {
  size: number;
  /** The bytes the storage reads best in one request, and how many such requests it keeps in flight per object. */
  partSize: number;
  queue: number;
  /**
   * Reads the bytes [start, end), handing them to `onBytes` as they come (with their
   * offset in the object; the next wait for its promise), never holding the range whole;
   * an object changed or cut since open fails naming it.
   */
  read(start: number, end: number, onBytes: (bytes: Buffer, at: number) => Promise<void>): Promise<void>;
}

export interface ObjectDownload {
  size: number;
  stream: Readable;
}

const command = objectWith<PluginCommand>({
  describe: string,
  'options?': { expected: 'an object', test: (v): v is object => typeof v === 'object' && v !== null },
  'details?': fn,
});
const helperCommand = objectWith<HelperCommand>({ command: string, describe: string, handler: fn });
const middleware = arrayOf(fn);
const storage = objectWith<CheckpointStorage>({ scheme: string, open: fn });
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
