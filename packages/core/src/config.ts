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
      'parallel lz4 checkpoint streams of process dumps (0: off; needs the streamer plugin; not applied to runc or containerd, nor with another compression)',
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
  'migrate.dir': {
    type: 'string',
    default: '/dev/shm/cedana-migrate',
    describe:
      'where a migration holds the images it sends (source) or receives (target) while it runs, made 0700; a tmpfs (memory), so no checkpoint file is written to disk unless `migrate job --keep`',
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
  'criu.binary_path': { type: 'string', default: '', describe: 'CRIU binary (empty: `criu` from PATH)' },
  'criu.leave_running': { type: 'boolean', default: false, describe: 'keep jobs running after a dump' },
  'plugins.dir': {
    type: 'string',
    default: '/usr/local/lib/cedana/plugins',
    describe: 'where plugins are installed, one folder per plugin and version',
  },
  'plugins.registry': { type: 'string', default: '', describe: 'npm registry for `cedana plugin install` (empty: the local catalog)' },
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

export const DEFAULT_CONFIG_PATH = join(homedir(), '.cedana', 'config.json');

export interface LoadConfigOptions {
  /** Config file; a missing default file is fine, a missing named file is an error. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from flags, by config key; undefined values are ignored. */
  overrides?: Partial<Record<ConfigKey, unknown>>;
}

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const path = opts.path ?? env.CEDANA_CONFIG ?? DEFAULT_CONFIG_PATH;
  const fromFile = readConfigFile(path, opts.path !== undefined || env.CEDANA_CONFIG !== undefined);
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
  return Object.freeze(config) as Config;
}

/** Reads a JSON file of nested objects ({"checkpoint": {"dir": ...}}) into flat keys. */
function readConfigFile(path: string, mustExist: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !mustExist) return {};
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
  for (const key of Object.keys(flat)) {
    if (!(key in CONFIG_KEYS)) {
      throw new CedanaError('CEDANA_ERR_CONFIG_VALUE', `config file ${path} has an unknown key "${key}"`, {
        hint: `known keys: ${Object.keys(CONFIG_KEYS).join(', ')}`,
      });
    }
  }
  return flat;
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
