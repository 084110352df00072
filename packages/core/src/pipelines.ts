/**
 * The contexts and handler types of the request pipelines. A pipeline is a final
 * handler wrapped in adapters (see adapter.ts); the daemon owns the order, plugins
 * add middleware and final handlers through features (features.ts).
 */
import type { Duplex, Readable, Writable } from 'node:stream';
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
  /** Post-copy migration's page traffic (DumpContext and RestoreContext say what each side does with it). */
  pageChannel?: PageChannel;
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
   * Post-copy migration (`migrate --lazy`): the engine dumps all but the lazy pages, leaves the
   * tree frozen and serves the pages over this channel (docs/migration.md). The dump handler
   * returns once the images are written; the engine goes on serving until the other side has
   * pulled every page.
   */
  pageChannel?: PageChannel;
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

/**
 * The daemon's end of CRIU's page-server connection in a post-copy migration: the engine hands
 * it its end of the socket it gave CRIU (`--ps-socket`), and the daemon relays the bytes to the
 * other host over its authenticated connection. CRIU's page server has no auth of its own, so it
 * never listens on an address.
 */
export interface PageChannel {
  /**
   * Called once, as soon as CRIU runs, with the socket, CRIU's PID and how it ended (`ok`: it
   * served or pulled every page). Throws if called twice: CRIU's page server serves one session.
   */
  attach(socket: Duplex, criuPid: number, ended: Promise<{ ok: boolean; why: string }>): void;
}

/** Pipes of an attachable job, by CRIU's key (e.g. `pipe:[4711]`), to reconnect at restore. */
export interface RestoreIo {
  stdin?: string;
  stdout?: string;
  stderr?: string;
}

/**
 * Images still arriving while CRIU runs (a streamed checkpoint read from remote storage):
 * each of `files` in imagesDir already has its full size, but holds its bytes only in the
 * ranges reported present. Whoever reads them (the streamer) waits for their ranges, asks
 * for the ones it needs next, and checks every byte itself (their digests are per chunk).
 */
export interface ArrivingImages {
  /** Names in imagesDir. */
  files: string[];
  /** Tells `present` every range [start, end) of a file written (those before the call at once), `failed` once if the rest never comes. */
  follow(listener: { present(file: string, start: number, end: number): void; failed(err: Error): void }): void;
  /** Asks for the bytes [start, end) of `file` before the rest: CRIU is waiting for them. */
  want(file: string, start: number, end: number): void;
}

export interface RestoreContext extends BaseContext, Measured, ContextSlots {
  /** Folder with CRIU's images (unpacked and verified by prepareRestoreDir). */
  imagesDir: string;
  criu: CriuOptions;
  /** checkpoint.json of the checkpoint being restored (read by prepareRestoreDir), in format 2's layout. */
  manifest: CheckpointManifest;
  /** Set for an attachable job: its pipes come back connected to the daemon. */
  io?: RestoreIo;
  /** Set while files of imagesDir are still being downloaded (see ArrivingImages). */
  arriving?: ArrivingImages;
  /**
   * Where the final handler should also leave the restored process's exit status, as JSON
   * `{"code":N}` or `{"signal":N}`, when it ends: a daemon restarted meanwhile reads it there.
   * Optional for handlers; without it such an exit is known only as "gone".
   */
  exitStatusFile?: string;
  /** Post-copy migration: a lazy restore whose pages come from the source host over this channel, not from the images folder. */
  pageChannel?: PageChannel;
  /**
   * Set when the daemon still verifies some of the images (the page contents of a folder
   * checkpoint) while the final handler restores. A handler that can keep the restored
   * tasks from running until then calls `hold()` before it starts CRIU, and must not let
   * them run unless the promise it returns resolves: when it rejects (the error names the
   * damaged file) the tasks are killed before they run an instruction, and the handler
   * throws that error. The engine's handler does it with a CRIU post-restore action script.
   * A handler that never calls `hold()` gets the images verified only once it returned
   * (the daemon then kills what it restored from a damaged checkpoint).
   */
  resumeGate?: ResumeGate;
}

/** See RestoreContext.resumeGate. */
export interface ResumeGate {
  /** The verification of the images still being checked: resolves when they match checkpoint.json. */
  hold(): Promise<void>;
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
