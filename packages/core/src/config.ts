/**
 * The configuration: one table of keys (CONFIG_KEYS) from which the defaults, the
 * CEDANA_* environment names, validation and docs/configuration.md are derived.
 *
 * Precedence, lowest first: defaults < config file (~/.cedana/config.json or
 * --config) < CEDANA_* environment < flags.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CedanaError } from './errors.js';

export const COMPRESSIONS = ['none', 'tar', 'lz4', 'gzip', 'zlib', 'zstd'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** `value` as a Compression; anything else is refused (CEDANA_ERR_INVALID_ARGUMENT), naming the ones there are. */
export function compressionOf(value: string): Compression {
  const known = COMPRESSIONS.find((c) => c === value);
  if (known === undefined) {
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `unknown compression "${value}": expected one of ${COMPRESSIONS.join(', ')}`);
  }
  return known;
}

type KeySpec =
  | { type: 'string'; default: string; describe: string; values?: readonly string[] }
  | { type: 'number'; default: number; describe: string; min?: number }
  | { type: 'boolean'; default: boolean; describe: string };

export const CONFIG_KEYS = {
  protocol: { type: 'string', default: 'unix', values: ['unix', 'tcp'], describe: 'how the daemon listens: a unix socket or TCP' },
  address: { type: 'string', default: '/run/cedana.sock', describe: 'socket path (unix) or host:port (tcp)' },
  auth_token: {
    type: 'string',
    default: '',
    describe: 'bearer token the daemon requires on TCP; a TCP daemon without one refuses to start unless `insecure` is set',
  },
  insecure: {
    type: 'boolean',
    default: false,
    describe:
      'let the daemon listen on TCP without auth_token (`daemon start --insecure`): whoever reaches the port acts as root, and every start logs a warning',
  },
  'tls.cert': {
    type: 'string',
    default: '',
    describe:
      'PEM certificate (chain) a TCP daemon serves TLS with, set together with tls.key (empty: plain TCP); the token is still required',
  },
  'tls.key': {
    type: 'string',
    default: '',
    describe:
      'PEM private key of tls.cert; the daemon refuses to start when the file is readable by group or others (chmod 600), as ssh does',
  },
  'tls.enabled': {
    type: 'boolean',
    default: false,
    describe:
      'clients connect to a TCP daemon over TLS (`--tls`), verifying its certificate: the CLI, and a source daemon dialing a migration target; implied by tls.ca',
  },
  'tls.ca': {
    type: 'string',
    default: '',
    describe:
      "PEM CA certificate(s) a client trusts for the daemon's certificate (`--tls-ca`), instead of the system's CAs; setting it turns TLS on (tls.enabled)",
  },
  'tls.server_name': {
    type: 'string',
    default: '',
    describe:
      "the name a client expects in the daemon's certificate (`--tls-server-name`; empty: the host of `address`, or of the migration target)",
  },
  log_level: { type: 'string', default: 'info', values: ['trace', 'debug', 'info', 'warn', 'error'], describe: 'daemon log level' },
  'log.dir': {
    type: 'string',
    default: '/var/log/cedana',
    describe: "the daemon's log folder (made 0700): CRIU's logs of failed dumps are kept in its failed-dumps/ folder, the newest 20",
  },
  'connection.url': { type: 'string', default: '', describe: 'URL of a Cedana endpoint (unused by the local daemon)' },
  'connection.auth_token': { type: 'string', default: '', describe: 'token for the Cedana endpoint' },
  'checkpoint.dir': { type: 'string', default: '/var/lib/cedana/checkpoints', describe: 'where checkpoints go when a dump names no --dir' },
  'checkpoint.compression': { type: 'string', default: 'none', values: COMPRESSIONS, describe: 'default compression of checkpoints' },
  'checkpoint.streams': {
    type: 'number',
    default: 0,
    min: 0,
    describe:
      'parallel lz4 checkpoint streams of process dumps (0: off; needs a plugin in the streams role; not applied to runtimes that run CRIU themselves, nor with another compression)',
  },
  'checkpoint.max_streams': {
    type: 'number',
    default: 64,
    min: 1,
    describe:
      'the most --streams a dump may ask for: each stream is a compressing thread and a shard, and the job stays frozen while they all start',
  },
  'checkpoint.keep': {
    type: 'number',
    default: 0,
    min: 0,
    describe:
      'checkpoints kept per job (0: all): after a dump of a job, its older checkpoints beyond this many are deleted, files and records, except one a restore is reading',
  },
  'storage.staging_dir': {
    type: 'string',
    default: '/dev/shm/cedana-staging',
    describe:
      'local folder, made 0700, for the CRIU images of a dump to remote storage (s3://...) until checkpoint.json is stored, and of a restore from it while CRIU reads them; a tmpfs (memory) by default, so the images never touch the disk; no archive is ever made here. Set it to a disk folder when memory cannot hold a second copy of the job',
  },
  'storage.s3.endpoint': {
    type: 'string',
    default: '',
    describe: 'S3 endpoint URL, for MinIO, Ceph RGW, R2... (empty: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS S3 itself)',
  },
  'storage.s3.region': { type: 'string', default: '', describe: 'S3 region (empty: AWS_REGION or the profile, else us-east-1)' },
  'storage.s3.force_path_style': {
    type: 'string',
    default: 'auto',
    values: ['auto', 'true', 'false'],
    describe: 'address buckets as ENDPOINT/BUCKET rather than BUCKET.ENDPOINT (auto: true when an endpoint is set, as MinIO needs)',
  },
  'storage.s3.create_bucket': {
    type: 'boolean',
    default: false,
    describe: "create the bucket of a dump's s3:// URL when it does not exist (off: such a dump is refused, saying how to create it)",
  },
  'storage.s3.part_size_mib': {
    type: 'number',
    default: 8,
    min: 5,
    describe: 'size of each multipart upload part and of each ranged GET, in MiB (S3 needs 5 or more)',
  },
  'storage.s3.queue': {
    type: 'number',
    default: 4,
    min: 1,
    describe:
      "parts of one object in flight at once, up or down: an upload's memory is a pool of this many part buffers (the one being filled and those in flight), at most queue x part size per object",
  },
  'migrate.dir': {
    type: 'string',
    default: '/dev/shm/cedana-migrate',
    describe:
      'where a migration holds the images it sends (source) or receives (target) while it runs, made 0700; a tmpfs (memory), so no checkpoint file is written to disk unless `migrate job --keep`',
  },
  'migrate.data_connection': {
    type: 'boolean',
    default: true,
    describe:
      "move a migration's bytes over a connection of the daemons' own (on the target: a port or socket opened for that migration alone, with a one-time secret, TLS when the daemon serves TLS; docs/migration.md); off: everything goes over the daemon's own port, slower (a firewall that lets only that port through)",
  },
  'migrate.send_during_dump': {
    type: 'boolean',
    default: true,
    describe:
      'pre-copy: send the shards to the target while the dump still writes them; off: after it (docs/migration.md has the figures of both; over gRPC alone, without the data connection, it did not pay on two cores)',
  },
  'db.path': {
    type: 'string',
    default: '/tmp/cedana.db',
    describe: 'LevelDB folder of jobs and checkpoints; set it outside /tmp to keep them across reboots',
  },
  'db.remote': {
    type: 'boolean',
    default: false,
    describe: 'use the remote DB of the Cedana endpoint (not supported by the local daemon)',
  },
  'profiling.enabled': { type: 'boolean', default: false, describe: 'send adapter timings back with every response' },
  'profiling.precision': {
    type: 'string',
    default: 'auto',
    values: ['auto', 'ns', 'us', 'ms', 's'],
    describe: 'unit the CLI prints timings in',
  },
  'criu.binary_path': { type: 'string', default: '', describe: 'CRIU binary (empty: CRIU from PATH)' },
  'criu.kdat_cache': {
    type: 'boolean',
    default: true,
    describe:
      "where /run is not a tmpfs, keep CRIU's kernel-feature cache (kdat), written by CRIU itself, on /dev/shm with a link to it in /run, so each CRIU run skips ~0.1 s of probing; a reboot empties it, as CRIU expects of /run",
  },
  'jobs.pid_namespace': {
    type: 'boolean',
    default: false,
    describe:
      'start `run process` jobs as init of their own PID and mount namespace (`--pid-ns`), so a restore never needs the old PID free and a checkpoint can be restored twice at once',
  },
  'criu.leave_running': { type: 'boolean', default: false, describe: 'keep jobs running after a dump' },
  'plugins.dir': {
    type: 'string',
    default: '/usr/local/lib/cedana/plugins',
    describe: 'where plugins are installed, one folder per plugin and version',
  },
  'plugins.registry': { type: 'string', default: '', describe: 'npm registry for `cedana plugin install` (empty: the local catalog)' },
  'plugins.auto_install': {
    type: 'boolean',
    default: false,
    describe: 'install a first-party runtime plugin a command names (`cedana dump NAME ...`) when it is missing, as --install does',
  },
  'plugins.catalog': {
    type: 'string',
    default: '',
    describe: 'folder of the local catalog of first-party plugin tarballs (empty: the one shipped with the CLI)',
  },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
type ValueOf<K extends ConfigKey> = (typeof CONFIG_KEYS)[K]['type'] extends 'number'
  ? number
  : (typeof CONFIG_KEYS)[K]['type'] extends 'boolean'
    ? boolean
    : string;
/** The flat, validated configuration: `config['checkpoint.dir']`. */
export type Config = { readonly [K in ConfigKey]: ValueOf<K> };

/** CEDANA_CHECKPOINT_DIR for `checkpoint.dir`. */
export function envName(key: ConfigKey): string {
  return `CEDANA_${key.replace(/\./g, '_').toUpperCase()}`;
}

/** ~/.cedana/config.json of whoever runs it, asked at each load: the CLI's startup snapshot is made at build time, under the builder's HOME. */
export function defaultConfigPath(): string {
  return join(homedir(), '.cedana', 'config.json');
}

export const DEFAULT_CONFIG_PATH = defaultConfigPath();

export interface LoadConfigOptions {
  /** Config file; a missing default file is fine, a missing named file is an error. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from flags, by config key; undefined values are ignored. */
  overrides?: Partial<Record<ConfigKey, unknown>>;
}

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const path = opts.path ?? env.CEDANA_CONFIG ?? defaultConfigPath();
  const { flat: fromFile, sections } = readConfigFile(path, opts.path !== undefined || env.CEDANA_CONFIG !== undefined);
  const config: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_KEYS) as [ConfigKey, KeySpec][]) {
    let value: unknown = spec.default;
    let source = 'default';
    if (fromFile[key] !== undefined) [value, source] = [fromFile[key], `${path}: ${key}`];
    const envValue = env[envName(key)];
    if (envValue !== undefined && envValue !== '') [value, source] = [fromString(spec, envValue), envName(key)];
    const flag = opts.overrides?.[key];
    if (flag !== undefined) [value, source] = [flag, `flag for ${key}`];
    config[key] = validate(key, spec, value, source);
  }
  // Not a key of the table: each plugin's own section, read with pluginConfig().
  Object.defineProperty(config, PLUGIN_SECTIONS, { value: Object.freeze(sections), enumerable: false });
  return Object.freeze(config) as Config;
}

// Symbol.for: the CLI bundle and the copy of core the host gives plugins are two module instances.
const PLUGIN_SECTIONS = Symbol.for('cedana.config.plugin-sections');

/**
 * A plugin's own configuration: the `plugins.<name>` object of the config file (e.g.
 * `{"plugins": {"hook": {"pre_dump": ["sync"]}}}`), as written there; `{}` when there is none.
 * The daemon passes its config to every pipeline as `ctx.config`.
 */
export function pluginConfig(config: Config, name: string): Readonly<Record<string, unknown>> {
  const sections = (config as unknown as Record<symbol, Record<string, Record<string, unknown>> | undefined>)[PLUGIN_SECTIONS];
  return sections?.[name] ?? {};
}

/** Reads a JSON file of nested objects ({"checkpoint": {"dir": ...}}) into flat keys, and the plugins' own sections. */
function readConfigFile(
  path: string,
  mustExist: boolean,
): { flat: Record<string, unknown>; sections: Record<string, Readonly<Record<string, unknown>>> } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !mustExist) return { flat: {}, sections: {} };
    throw new CedanaError('CEDANA_ERR_CONFIG_PARSE', `cannot read config file ${path}: ${(err as Error).message}`, {
      hint: 'check the path given with --config or CEDANA_CONFIG',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CedanaError('CEDANA_ERR_CONFIG_PARSE', `config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CedanaError('CEDANA_ERR_CONFIG_PARSE', `config file ${path} must hold a JSON object, found ${typeName(parsed)}`);
  }
  const flat: Record<string, unknown> = {};
  flatten(parsed as Record<string, unknown>, '', flat);
  const sections: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const [key, value] of Object.entries(flat)) {
    const plugin = /^plugins\.([a-z0-9][a-z0-9._-]*)$/.exec(key)?.[1];
    if (plugin && !(key in CONFIG_KEYS) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      sections[plugin] = Object.freeze({ ...(value as Record<string, unknown>) });
      delete flat[key];
      continue;
    }
    if (!(key in CONFIG_KEYS)) {
      throw new CedanaError('CEDANA_ERR_CONFIG_VALUE', `config file ${path} has an unknown key "${key}"`, {
        hint: `known keys: ${Object.keys(CONFIG_KEYS).join(', ')}; a plugin's own settings go in an object "plugins": { "NAME": { ... } }`,
      });
    }
  }
  return { flat, sections };
}

function flatten(obj: Record<string, unknown>, prefix: string, out: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    const isSection = Object.keys(CONFIG_KEYS).some((k) => k.startsWith(`${key}.`));
    if (isSection && typeof v === 'object' && v !== null && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${key}.`, out);
    else out[key] = v;
  }
}

function fromString(spec: KeySpec, raw: string): unknown {
  if (spec.type === 'number') return raw.trim() === '' ? Number.NaN : Number(raw);
  if (spec.type === 'boolean')
    return ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())
      ? true
      : ['0', 'false', 'no', 'off'].includes(raw.toLowerCase())
        ? false
        : raw;
  return raw;
}

function validate(key: string, spec: KeySpec, value: unknown, source: string): unknown {
  const bad = (expected: string) =>
    new CedanaError('CEDANA_ERR_CONFIG_VALUE', `config key "${key}" (from ${source}) must be ${expected}, found ${JSON.stringify(value)}`);
  switch (spec.type) {
    case 'number':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw bad('an integer');
      if (spec.min !== undefined && value < spec.min) throw bad(`>= ${spec.min}`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('true or false');
      return value;
    case 'string':
      if (typeof value !== 'string') throw bad('a string');
      if (spec.values && !spec.values.includes(value)) throw bad(`one of ${spec.values.join(', ')}`);
      return value;
  }
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}
