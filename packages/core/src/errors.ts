/**
 * Every error the core and the daemon raise (and those plugins share) has a code from
 * this one table; a code of one plugin only is declared by that plugin (definePlugin's
 * `errors`, registered at load: plugin-errors.ts). Callers test `err.code`, never the
 * message. Each code has a row in docs/errors.md (a test keeps the two in step).
 *
 * `status` is the gRPC status name the daemon answers with; it is mapped to a
 * number at the edge (packages/daemon/src/server/grpc-errors.ts).
 */
export const ERRORS = {
  // config
  CEDANA_ERR_CONFIG_PARSE: {
    status: 'INVALID_ARGUMENT',
    hint: 'fix the JSON syntax of the config file, or move it away to use the defaults',
  },
  CEDANA_ERR_CONFIG_VALUE: { status: 'INVALID_ARGUMENT', hint: 'see docs/configuration.md for the keys and their allowed values' },
  // requests
  CEDANA_ERR_INVALID_ARGUMENT: { status: 'INVALID_ARGUMENT', hint: 'run the command with --help to see what it expects' },
  CEDANA_ERR_INVALID_NAME: {
    status: 'INVALID_ARGUMENT',
    hint: 'JIDs and checkpoint names match [A-Za-z0-9][A-Za-z0-9._-]{0,127} (no /, spaces or newlines): choose one such as web-1',
  },
  CEDANA_ERR_PROTECTED_PROCESS: {
    status: 'FAILED_PRECONDITION',
    hint: 'PID 1, the daemon and the processes it runs under cannot be dumped (CRIU would freeze the daemon doing the dump): dump a job (`cedana ps`) or another PID',
  },
  CEDANA_ERR_JOB_NOT_FOUND: { status: 'NOT_FOUND', hint: 'list jobs with `cedana ps`' },
  CEDANA_ERR_JOB_EXISTS: { status: 'ALREADY_EXISTS', hint: 'choose another --jid, or delete the old job with `cedana job delete JID`' },
  CEDANA_ERR_JOB_NOT_RUNNING: {
    status: 'FAILED_PRECONDITION',
    hint: 'only a running job can be dumped or killed; `cedana ps` shows its status',
  },
  CEDANA_ERR_JOB_RUNNING: {
    status: 'FAILED_PRECONDITION',
    hint: 'kill the job first (`cedana job kill JID`), or dump it without restoring',
  },
  CEDANA_ERR_JOB_BUSY: { status: 'ABORTED', hint: 'another dump or restore of this job is in progress; wait for it and try again' },
  CEDANA_ERR_NOT_ATTACHABLE: { status: 'FAILED_PRECONDITION', hint: 'start the job with --attachable (or --attach) to attach to it later' },
  CEDANA_ERR_PROCESS_NOT_FOUND: { status: 'NOT_FOUND', hint: 'check the PID with `ps -p PID`' },
  CEDANA_ERR_PID_TAKEN: {
    status: 'FAILED_PRECONDITION',
    hint: 'CRIU restores a process with its original PID: stop whatever now runs with that PID, or restore on another machine',
  },
  CEDANA_ERR_MOUNT_MISSING: {
    status: 'FAILED_PRECONDITION',
    hint: 'mount it here as on the host of the dump (a --pid-ns job names every mount it saw, e.g. /sys/fs/cgroup/cpu), or bind its key elsewhere: --external mnt[KEY]:PATH',
  },
  CEDANA_ERR_RUN_FAILED: { status: 'INVALID_ARGUMENT', hint: 'check the program exists and is executable (the path is looked up in PATH)' },
  CEDANA_ERR_UNSUPPORTED_TYPE: {
    status: 'UNIMPLEMENTED',
    hint: 'install the plugin for this type (`cedana plugin install NAME`); `cedana features` shows who exports what',
  },
  // checkpoints
  CEDANA_ERR_CHECKPOINT_NOT_FOUND: { status: 'NOT_FOUND', hint: 'list checkpoints with `cedana checkpoints`' },
  CEDANA_ERR_CHECKPOINT_INVALID: { status: 'DATA_LOSS', hint: 'the checkpoint is damaged or incomplete: restore from another checkpoint' },
  CEDANA_ERR_LAZY_CHECKPOINT: {
    status: 'FAILED_PRECONDITION',
    hint: 'restore it without --lazy, or dump the job again with `--compression none` (no --streams) to a local folder',
  },
  CEDANA_ERR_CHECKPOINT_DIR: {
    status: 'FAILED_PRECONDITION',
    hint: 'choose a writable folder with --dir, or set checkpoint.dir in the config',
  },
  CEDANA_ERR_CANCELLED: {
    status: 'ABORTED',
    hint: 'the operation was cancelled before it finished and what it had written was removed: run it again',
  },
  CEDANA_ERR_CODEC_UNAVAILABLE: {
    status: 'FAILED_PRECONDITION',
    hint: 'the lz4 and zstd codecs are built with a C compiler on first use: install gcc, libc6-dev and liblz4-dev or libzstd-dev (Debian), or dump with another --compression',
  },
  CEDANA_ERR_NO_SPACE: {
    status: 'RESOURCE_EXHAUSTED',
    hint: 'free space on the checkpoint filesystem, or dump with compression (--compression lz4) or to another --dir; for s3://, point storage.staging_dir at a folder with room, or dump with --streams N',
  },
  // checkpoint storage (plugins with the CheckpointStorage role, such as storage-s3)
  CEDANA_ERR_STORAGE_UNSUPPORTED: {
    status: 'UNIMPLEMENTED',
    hint: 'install the plugin that stores this URL scheme (`cedana plugin list` shows the first-party ones), or give a local --dir',
  },
  CEDANA_ERR_STORAGE_UNREACHABLE: {
    status: 'UNAVAILABLE',
    hint: 'check storage.s3.endpoint (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) and that the server answers there; nothing was registered and the job was left running',
  },
  CEDANA_ERR_STORAGE_CREDENTIALS: {
    status: 'FAILED_PRECONDITION',
    hint: 'give the daemon valid keys: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its environment, or a profile (AWS_PROFILE, ~/.aws/credentials)',
  },
  CEDANA_ERR_STORAGE_BUCKET_MISSING: {
    status: 'NOT_FOUND',
    hint: 'create the bucket (`aws s3 mb s3://BUCKET`, or `mc mb ALIAS/BUCKET` for MinIO), or set storage.s3.create_bucket to true',
  },
  CEDANA_ERR_STORAGE_DENIED: {
    status: 'FAILED_PRECONDITION',
    hint: 'grant these keys s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on the bucket and prefix',
  },
  CEDANA_ERR_STORAGE_INTERRUPTED: {
    status: 'UNAVAILABLE',
    hint: 'the transfer was cut (server gone, network down): its uploads were aborted and nothing was registered; run the command again once the storage answers',
  },
  // containers: shared by every plugin in the runtime role that runs containers, so no one plugin's
  CEDANA_ERR_CONTAINER_NOT_FOUND: {
    status: 'NOT_FOUND',
    hint: 'list the containers with `cedana query TYPE --root ROOT`; pass the --root the container was started with',
  },
  CEDANA_ERR_CONTAINER_NOT_RUNNING: {
    status: 'FAILED_PRECONDITION',
    hint: 'only a running container can be dumped or managed; `cedana query TYPE` shows its status',
  },
  CEDANA_ERR_CONTAINER_EXISTS: {
    status: 'ALREADY_EXISTS',
    hint: 'choose another --id, or remove the old container first (with the runtime’s own delete command)',
  },
  CEDANA_ERR_CONTAINER_UNSUPPORTED: {
    status: 'FAILED_PRECONDITION',
    hint: "change the bundle's config.json as the message says and start the container again",
  },
  // GPU (what the daemon says of a dump that asks for GPU state of a job without it)
  CEDANA_ERR_GPU_NOT_ENABLED: {
    status: 'FAILED_PRECONDITION',
    hint: 'GPU checkpoints are offered only for jobs started with `cedana run ... --gpu-enabled`: start the job that way',
  },
  // migration
  CEDANA_ERR_MIGRATE_REFUSED: {
    status: 'FAILED_PRECONDITION',
    hint: 'the target daemon cannot take the job (see why); nothing was frozen and the job runs on here: fix the target, then migrate again',
  },
  CEDANA_ERR_MIGRATE_FAILED: {
    status: 'ABORTED',
    hint: 'the migration failed after the dump; the job was restored here (or, if that failed too, the message names the kept checkpoint to restore): see why, then migrate again',
  },
  // plugins
  CEDANA_ERR_PLUGIN_MANIFEST: {
    status: 'FAILED_PRECONDITION',
    hint: 'a plugin package needs "cedana": { "plugin": NAME, "engines": RANGE } in its package.json',
  },
  CEDANA_ERR_PLUGIN_ENGINE: { status: 'FAILED_PRECONDITION', hint: 'install a plugin version made for this cedana version' },
  CEDANA_ERR_PLUGIN_IMPORT: {
    status: 'FAILED_PRECONDITION',
    hint: 'the plugin failed to load: reinstall it, or report the error to its author',
  },
  CEDANA_ERR_PLUGIN_SHAPE: { status: 'FAILED_PRECONDITION', hint: 'the plugin exports a feature of the wrong shape: update the plugin' },
  CEDANA_ERR_PLUGIN_FAILED: {
    status: 'INTERNAL',
    hint: 'a plugin failed while handling the request: see its message, or report it to its author',
  },
  CEDANA_ERR_PLUGIN_REFUSED: {
    status: 'FAILED_PRECONDITION',
    hint: 'a plugin refused the request on purpose: its own hint says why and what to do (the message names the plugin)',
  },
  CEDANA_ERR_MANIFEST_OWNER: {
    status: 'INTERNAL',
    hint: 'a plugin writes only its own section of checkpoint.json (ctx.setSection) and keeps request state in ctx.state: update the plugin named, or report it to its author',
  },
  CEDANA_ERR_ROLE_MISSING: {
    status: 'FAILED_PRECONDITION',
    hint: 'install a plugin that fills the role (`cedana plugin install NAME`); `cedana features` shows each plugin’s role',
  },
  CEDANA_ERR_FEATURE_MISSING: {
    status: 'UNIMPLEMENTED',
    hint: 'install a plugin that exports this feature; `cedana features` shows the matrix',
  },
  // plugin install, update, remove
  CEDANA_ERR_PLUGIN_NOT_FOUND: {
    status: 'NOT_FOUND',
    hint: '`cedana plugin list` shows the first-party plugins; a third-party plugin is named by its npm package and needs a registry (--registry)',
  },
  CEDANA_ERR_REGISTRY_UNREACHABLE: {
    status: 'UNAVAILABLE',
    hint: 'check that the registry (plugins.registry or --registry) is up and reachable; without a registry, first-party plugins install from the local catalog',
  },
  CEDANA_ERR_PLUGIN_INTEGRITY: {
    status: 'DATA_LOSS',
    hint: 'the package differs from its recorded checksum (damaged or tampered with): nothing was installed; rebuild the catalog (`pnpm build`) or fetch it again',
  },
  CEDANA_ERR_PLUGIN_INSTALL: {
    status: 'INTERNAL',
    hint: "read npm's output above: the registry must hold the plugin's dependencies; the previously installed version was left in place",
  },
  CEDANA_ERR_PLUGIN_IN_USE: {
    status: 'FAILED_PRECONDITION',
    hint: 'kill the jobs that need the plugin first (`cedana job kill JID`), or pass --force to remove it anyway',
  },
  CEDANA_ERR_PLUGIN_BUSY: {
    status: 'ABORTED',
    hint: 'another `cedana plugin` command is changing the plugins folder: wait for it to finish and try again',
  },
  // daemon and client
  CEDANA_ERR_DAEMON_UNREACHABLE: { status: 'UNAVAILABLE', hint: 'start the daemon with `cedana daemon start`, or point --address at it' },
  CEDANA_ERR_TCP_NO_TOKEN: {
    status: 'FAILED_PRECONDITION',
    hint: 'set auth_token (CEDANA_AUTH_TOKEN), e.g. to `openssl rand -hex 32`, or use a unix socket; `daemon start --insecure` runs without one: whoever reaches the port acts as root',
  },
  CEDANA_ERR_TLS_FILE: {
    status: 'FAILED_PRECONDITION',
    hint: 'point tls.cert, tls.key and tls.ca at readable PEM files (`openssl x509 -in FILE -noout` checks one), and make the key private: chmod 600 KEY',
  },
  CEDANA_ERR_TLS_UNTRUSTED: {
    status: 'UNAVAILABLE',
    hint: "pass the CA that signed the daemon's certificate: --tls-ca FILE (CEDANA_TLS_CA, tls.ca); for a migration, set tls.ca of the source daemon",
  },
  CEDANA_ERR_TLS_HOSTNAME: {
    status: 'UNAVAILABLE',
    hint: 'dial a name or IP the certificate lists (`openssl x509 -in CERT -noout -ext subjectAltName`), or expect one with --tls-server-name NAME',
  },
  CEDANA_ERR_TLS_MISMATCH: {
    status: 'UNAVAILABLE',
    hint: 'speak what the daemon speaks: --tls or --tls-ca FILE for a daemon with tls.cert, neither for one without; for a migration, tls.ca of the source daemon',
  },
  CEDANA_ERR_UNAUTHENTICATED: {
    status: 'UNAUTHENTICATED',
    hint: 'pass the daemon token with CEDANA_AUTH_TOKEN or auth_token in the config',
  },
  CEDANA_ERR_INTERNAL: { status: 'INTERNAL', hint: 'this is a bug: the daemon log has the details' },
} as const satisfies Record<string, { status: GrpcStatusName; hint: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** A code a plugin declares, CEDANA_ERR_<PLUGIN>_<WHAT>: known at run time, not at compile time. */
export type PluginErrorCode = `CEDANA_ERR_${string}`;

/** What a code means at the edge: its gRPC status and what to do next. */
export interface ErrorSpec {
  status: GrpcStatusName;
  hint: string;
}

/** Codes plugins declared, with their owner (filled by registerPluginErrors at load). */
export const PLUGIN_ERRORS = new Map<string, ErrorSpec & { plugin: string }>();

/** Status and hint of a core code or of a code a loaded plugin declared; undefined for any other. */
export function errorSpec(code: string): ErrorSpec | undefined {
  return code in ERRORS ? ERRORS[code as ErrorCode] : PLUGIN_ERRORS.get(code);
}

/** The shape of every code, core's or a plugin's (not all of them are known here). */
export const ERROR_CODE_PATTERN = /^CEDANA_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/;

export type GrpcStatusName =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'UNIMPLEMENTED'
  | 'DATA_LOSS'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'UNAUTHENTICATED';

export interface CedanaErrorOptions {
  /** What to do next; defaults to the code's hint. */
  hint?: string;
  cause?: unknown;
  /** Extra lines shown under the message, e.g. the tail of CRIU's log. */
  details?: string[];
}

/** An error a user can act on: a code, what went wrong, and what to do next. */
export class CedanaError extends Error {
  readonly code: ErrorCode | PluginErrorCode;
  readonly hint: string;
  readonly details: string[];
  /** The status a plugin's code maps to where no registry knows it (a client reading a trailer). */
  readonly #status: GrpcStatusName | undefined;

  constructor(code: ErrorCode | PluginErrorCode, message: string, opts: CedanaErrorOptions & { status?: GrpcStatusName } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CedanaError';
    this.code = code;
    this.hint = opts.hint ?? errorSpec(code)?.hint ?? '';
    this.details = opts.details ?? [];
    this.#status = opts.status;
  }

  get status(): GrpcStatusName {
    return errorSpec(this.code)?.status ?? this.#status ?? 'INTERNAL';
  }
}

/** True for a CedanaError from any copy of this package (plugins may bundle their own). */
export function isCedanaError(err: unknown): err is CedanaError {
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && (code in ERRORS || ERROR_CODE_PATTERN.test(code));
}

/** Any thrown value as a CedanaError; unknown errors become `fallback`. */
export function toCedanaError(err: unknown, fallback: ErrorCode = 'CEDANA_ERR_INTERNAL'): CedanaError {
  if (isCedanaError(err)) return err;
  if (err instanceof Error && err.name === 'AbortError') return new CedanaError('CEDANA_ERR_CANCELLED', err.message, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new CedanaError(fallback, message, { cause: err });
}
