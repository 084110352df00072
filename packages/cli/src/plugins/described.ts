/**
 * The installed plugins as help, `features` and `plugin list` see them, without importing
 * them: importing six plugins costs ~200 ms, three times a whole `cedana ps`. Those command
 * lines only describe the plugins (names, flags, which features they export and whether
 * they load), never run their code, so what a full load found is kept in
 * `<plugins dir>/.described.json` and reused while nothing it came from has changed: the
 * plugins' folders, package.json files and entry files, node, the CLI and the loader.
 * Anything else, and any doubt (no file, a file of another shape, a value that JSON cannot
 * carry, a plugin that failed to import), means a full load as before.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CedanaError, ERRORS, type ErrorCode, HOST_VERSION, type LoadedPlugin, type PluginDefinition } from '@cedana/core';
import { GLOBAL_VALUE_FLAGS } from '../global-options.js';

export const DESCRIBED_FILE = '.described.json';
const FORMAT = 1;

/**
 * Whether the command line only describes plugins: help anywhere (`dump --help`, `-h`),
 * `cedana` alone (its usage), `features` and `plugin list|features`. Their handlers
 * read names, flags and load records; none calls into a plugin.
 */
export function describesOnly(args: readonly string[]): boolean {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') break;
    if (arg === '--help' || arg === '-h') return true;
    if (GLOBAL_VALUE_FLAGS.includes(arg)) i++;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  const [first, second] = words;
  if (first === undefined) return !args.includes('--version');
  if (first === 'features') return true;
  return (first === 'plugin' || first === 'plugins') && (second === 'list' || second === 'features');
}

/** The plugins of `dir` as described by the last full load, or a full load (`load`) that is then described. */
export async function describedPlugins(dir: string, load: (dir: string) => Promise<LoadedPlugin[]>): Promise<LoadedPlugin[]> {
  if (!existsSync(dir)) return []; // what the loader finds there, without importing it
  const before = fingerprint(dir);
  const kept = before === undefined ? undefined : readDescribed(dir, before);
  if (kept) return kept;
  const loaded = await load(dir);
  // Taken after the load, which may have linked the host modules; kept only for records settled for good
  // (an import can fail for a passing reason: a timeout under load).
  const key = fingerprint(dir);
  const described = key === undefined || loaded.some((p) => p.phase === 'import') ? undefined : describe(loaded);
  if (key !== undefined && described) writeDescribed(dir, { format: FORMAT, key, plugins: described });
  return loaded;
}

/** What a plugin record becomes on disk: the definition with each function as `{ [FN]: 1 }`. */
interface DescribedPlugin {
  name: string;
  version: string;
  path: string;
  status: 'ok' | 'error';
  phase?: string;
  error?: { code: string; message: string; hint: string; details: string[] };
  definition?: unknown;
  loadMs?: number;
}

interface DescribedFile {
  format: number;
  key: string;
  plugins: DescribedPlugin[];
}

const FN = '$cedanaFunction';

/** The records as JSON can carry them; undefined when a value cannot be (a class instance, a Map, a cycle). */
export function describe(plugins: readonly LoadedPlugin[]): DescribedPlugin[] | undefined {
  const out: DescribedPlugin[] = [];
  for (const p of plugins) {
    const definition = p.definition === undefined ? undefined : encode(p.definition, 0);
    if (definition === NOT_JSON) return undefined;
    if (p.error && !(p.error.code in ERRORS)) return undefined;
    out.push({
      name: p.name,
      version: p.version,
      path: p.path,
      status: p.status,
      ...(p.phase ? { phase: p.phase } : {}),
      ...(p.error ? { error: { code: p.error.code, message: p.error.message, hint: p.error.hint, details: p.error.details ?? [] } } : {}),
      ...(definition === undefined ? {} : { definition }),
      ...(p.loadMs === undefined ? {} : { loadMs: p.loadMs }),
    });
  }
  return out;
}

/** The records back, each function a stand-in that says it was never loaded (nothing that only describes calls one). */
export function revive(described: readonly DescribedPlugin[]): LoadedPlugin[] {
  return described.map((d) => ({
    name: d.name,
    version: d.version,
    path: d.path,
    status: d.status,
    ...(d.phase ? { phase: d.phase as LoadedPlugin['phase'] } : {}),
    ...(d.error
      ? { error: new CedanaError(d.error.code as ErrorCode, d.error.message, { hint: d.error.hint, details: d.error.details }) }
      : {}),
    ...(d.definition === undefined ? {} : { definition: decode(d.definition, d.name) as PluginDefinition }),
    ...(d.loadMs === undefined ? {} : { loadMs: d.loadMs }),
  }));
}

const NOT_JSON = Symbol('not JSON');

function encode(value: unknown, depth: number): unknown {
  if (depth > 32) return NOT_JSON;
  if (typeof value === 'function') return { [FN]: 1 };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : NOT_JSON;
  if (typeof value !== 'object') return NOT_JSON; // undefined inside arrays, symbols, bigints
  if (Array.isArray(value)) {
    const items = value.map((v) => encode(v, depth + 1));
    return items.includes(NOT_JSON) ? NOT_JSON : items;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype || FN in value) return NOT_JSON;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue; // as a missing key, which is how every reader takes it
    const e = encode(v, depth + 1);
    if (e === NOT_JSON) return NOT_JSON;
    out[k] = e;
  }
  return out;
}

function decode(value: unknown, plugin: string): unknown {
  if (Array.isArray(value)) return value.map((v) => decode(v, plugin));
  if (value === null || typeof value !== 'object') return value;
  if (FN in value) {
    return () => {
      throw new CedanaError(
        'CEDANA_ERR_INTERNAL',
        `the code of plugin "${plugin}" was not loaded: this command line only describes plugins`,
        {
          hint: `run it again with CEDANA_PLUGINS_DIR's ${DESCRIBED_FILE} removed, and report it`,
        },
      );
    };
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v, plugin)]));
}

/** The CLI's main.js beside this code (the bundle, which its startup snapshot shares); this file itself outside a bundle. */
function cliFile(): string {
  const own = fileURLToPath(import.meta.url);
  const main = join(dirname(own), 'main.js');
  return existsSync(main) ? main : own;
}

/** A file or folder as its identity and last change; '-' when it is not there. */
function stamp(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return '-';
  }
}

/**
 * What a full load of `dir` depends on, hashed: node and the host version, the CLI and
 * the loader, the plugins folder and its installed.json and host modules, and of each
 * plugin's folder every version folder, its package.json (contents), its entry file and
 * its dist and node_modules folders. An install, update or removal renames whole version
 * folders, so their identity changes. Undefined when `dir` cannot be read, or when a version
 * folder is a symlink (a plugin under development, edited in place).
 */
export function fingerprint(dir: string): string | undefined {
  const parts: string[] = [`${FORMAT}`, process.version, process.execPath, HOST_VERSION, stamp(cliFile())];
  // The loader, through the CLI package's own link (dist/bundle/ and dist/plugins/ are as deep): resolving
  // '@cedana/daemon/plugins' the module way costs ~7 ms of package.json lookups.
  parts.push(stamp(join(dirname(fileURLToPath(import.meta.url)), '../../node_modules/@cedana/daemon/dist/plugins/loader.js')));
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
  } catch {
    return undefined;
  }
  parts.push(stamp(join(dir, 'installed.json'))); // not the folder's own: writing the description changes it
  for (const name of names) {
    const folder = join(dir, name);
    parts.push(name, stamp(folder));
    let versions: string[];
    try {
      versions = readdirSync(folder).sort();
    } catch {
      versions = [];
    }
    for (const version of versions) {
      const root = join(folder, version);
      // A version folder linked to a plugin under development changes in place: never described.
      if (isLink(root)) return undefined;
      let pkg = '';
      try {
        pkg = readFileSync(join(root, 'package.json'), 'utf8');
      } catch {}
      parts.push(version, stamp(root), pkg, stamp(join(root, 'dist')), stamp(join(root, 'node_modules')));
      for (const entry of entryFiles(pkg)) parts.push(stamp(join(root, entry)));
    }
  }
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The files a package.json names as its entry (main, and the strings of exports). */
function entryFiles(pkg: string): string[] {
  try {
    const json = JSON.parse(pkg) as { main?: unknown; exports?: unknown };
    const out = typeof json.main === 'string' ? [json.main] : [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') out.push(v);
      else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
    };
    walk(json.exports);
    return out.length > 0 ? out : ['index.js'];
  } catch {
    return [];
  }
}

function readDescribed(dir: string, key: string): LoadedPlugin[] | undefined {
  try {
    const file = JSON.parse(readFileSync(join(dir, DESCRIBED_FILE), 'utf8')) as DescribedFile;
    if (file.format !== FORMAT || file.key !== key || !Array.isArray(file.plugins)) return undefined;
    return revive(file.plugins);
  } catch {
    return undefined;
  }
}

/** Written whole and renamed into place; a folder the CLI cannot write keeps no description (and loads every time). */
function writeDescribed(dir: string, file: DescribedFile): void {
  const path = join(dir, DESCRIBED_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(file), { mode: 0o644 });
    renameSync(tmp, path);
  } catch {}
}
