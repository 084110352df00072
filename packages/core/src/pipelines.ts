/**
 * The contexts and handler types of the request pipelines. A pipeline is a final
 * handler wrapped in adapters (see adapter.ts); the daemon owns the order, plugins
 * add middleware and final handlers through features (features.ts).
 */
import type { Readable, Writable } from 'node:stream';
import type { Adapter, BaseContext, HandlerFn, Middleware } from './adapter.js';
import type { CheckpointManifest, FileDigest, ManifestFacts } from './manifest.js';
import type { CheckpointStats } from './proto/gen/cedana/daemon/v1/stats.js';
import type {
  DumpReq,
  DumpResp,
  ManageReq,
  ManageResp,
  QueryReq,
  RestoreReq,
  RestoreResp,
  RunReq,
  RunResp,
} from './proto/gen/cedana/daemon/v1/types.js';
import type { ContextSlots } from './request-context.js';

/** CRIU options gathered by adapters; the final handler turns them into flags. */
export interface CriuOptions {
  leaveRunning: boolean;
  tcpEstablished: boolean;
  tcpClose: boolean;
  fileLocks: boolean;
  shellJob: boolean;
  extUnixSk: boolean;
  linkRemap: boolean;
  /** `--external` values, e.g. `file[ino:dev]`, `mnt[...]` */
  external: string[];
  /** Raw extra arguments, for what has no field yet. */
  extraArgs: string[];
}

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

/** A process that a handler started (run) or brought back (restore). */
export interface Started {
  pid: number;
  /** Settles when the process exits; never rejects. */
  exited: Promise<ExitStatus>;
  /** The process's standard streams, when the daemon holds them (attachable jobs). */
  stdio?: { stdin?: Writable; stdout?: Readable; stderr?: Readable };
}

/**
 * Reports bytes done out of a total (0: not known) for a phase of a dump or restore:
 * `pack`, `unpack`, `stream` (a plugin writing or reading streams), `dump` (CRIU). A
 * client watching the request (the Progress RPC) sees each report; calls are cheap
 * and may be frequent (the daemon forwards at most a few per second).
 */
export type ProgressFn = (bytesDone: number, bytesTotal: number, phase: string) => void;

/** Set on dump and restore contexts: report progress, and leave figures for --print-stats. */
export interface Measured {
  /** Present when a client watches this request's progress. */
  progress?: ProgressFn;
  /**
   * Timings and sizes of this request, returned in DumpResp/RestoreResp.stats. A plugin
   * writing streams adds one `streams` entry per stream (index, path, bytes_raw,
   * bytes_stored, write_ns) and the totals it knows (bytes_raw, bytes_stored, write_ns).
   */
  stats?: CheckpointStats;
}

/**
 * Whose the dumped process's standard streams are. `daemon`: pipes to the daemon are an
 * attachable job's; the dump records them (checkpoint.json `io`) and the restore connects
 * new ones. `runtime`: a runtime's shim holds them (a container's pipes to its log), so they
 * are not recorded and the runtime plugin brings them back itself.
 */
export type StdioOwner = 'daemon' | 'runtime';

export interface DumpContext extends BaseContext, Measured, ContextSlots {
  /** Folder CRIU writes its images into (set by prepareDumpDir). */
  imagesDir: string;
  /** Root of the process tree to dump (set from the request, a job, or plugin middleware). */
  pid: number;
  criu: CriuOptions;
  /** The daemon's facts for checkpoint.json: read-only to plugins, which write `section()`s. */
  manifest: ManifestFacts;
  /** Set by a runtime plugin's middleware whose shim holds the process's stdio; `daemon` when left out. */
  stdioOwner?: StdioOwner;
  /**
   * Digests of files a plugin wrote and hashed as it wrote them (the streamer's shards),
   * by name: checkpoint.json lists them without reading them again when their size matches.
   */
  fileDigests?: Record<string, FileDigest>;
  /**
   * Set by the daemon when the checkpoint goes to remote storage: a plugin about to write
   * the file `name` of imagesDir as the dump goes (the streamer's shards) calls it first, and
   * the daemon makes that path a pipe (FIFO) it reads straight into the file's object, so no
   * copy of the file is kept on the local disk. The plugin then opens it for writing (it
   * must not create or replace it), writes it once from start to end, lists its digest in
   * `fileDigests`, and has closed it when its step of the dump returns. A write fails (EPIPE)
   * once the upload failed.
   */
  pipeToStorage?: (name: string) => Promise<void>;
  /**
   * Set by a plugin that left the dumped tree stopped rather than ended because the
   * checkpoint's bytes are safe only once stored (the streamer, when it wrote to
   * `pipeToStorage`): the daemon calls it once it knows, with true (stored: the plugin ends
   * the tree) or false (storing failed: the plugin continues it, and the job runs on).
   */
  settleTree?: (stored: boolean) => Promise<void>;
}

/** Pipes of an attachable job, by CRIU's key (e.g. `pipe:[4711]`), to reconnect at restore. */
export interface RestoreIo {
  stdin?: string;
  stdout?: string;
  stderr?: string;
}

export interface RestoreContext extends BaseContext, Measured, ContextSlots {
  /** Folder with CRIU's images (unpacked and verified by prepareRestoreDir). */
  imagesDir: string;
  criu: CriuOptions;
  /** checkpoint.json of the checkpoint being restored (read by prepareRestoreDir), in format 2's layout. */
  manifest: CheckpointManifest;
  /** Set for an attachable job: its pipes come back connected to the daemon. */
  io?: RestoreIo;
  /**
   * Where the final handler should also leave the restored process's exit status, as JSON
   * `{"code":N}` or `{"signal":N}`, when it ends: a daemon restarted meanwhile reads it there.
   * Optional for handlers; without it such an exit is known only as "gone".
   */
  exitStatusFile?: string;
}

export type RunContext = BaseContext;
export type ManageContext = BaseContext;

export type DumpHandlerFn = HandlerFn<DumpContext, DumpReq, DumpResp>;
export type RestoreHandlerFn = HandlerFn<RestoreContext, RestoreReq, RestoreResp, Started>;
export type RunHandlerFn = HandlerFn<RunContext, RunReq, RunResp, Started>;
export type ManageHandlerFn = HandlerFn<ManageContext, ManageReq, ManageResp, Started | undefined>;

export type DumpAdapter = Adapter<DumpHandlerFn>;
export type RestoreAdapter = Adapter<RestoreHandlerFn>;
export type RunAdapter = Adapter<RunHandlerFn>;
export type DumpMiddleware = Middleware<DumpHandlerFn>;
export type RestoreMiddleware = Middleware<RestoreHandlerFn>;
export type RunMiddleware = Middleware<RunHandlerFn>;

/** Answers `cedana query TYPE`: plain JSON-able data. */
export type QueryHandlerFn = (ctx: BaseContext, req: QueryReq) => Promise<Record<string, unknown>>;
