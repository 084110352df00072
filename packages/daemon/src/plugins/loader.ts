/**
 * Finds and loads the installed plugins: `<plugins dir>/<name>/<version>/` holds
 * one npm package each. Loading is a fixed sequence of named phases (LOAD_PHASES);
 * a failure in any phase becomes the plugin's record, never an exception.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CedanaError,
  type ErrorCode,
  HOST_VERSION,
  insideFolder,
  isRole,
  type LoadedPlugin,
  type LoadPhase,
  newestFirst,
  type PluginDefinition,
  type PluginManifest,
  RESERVED_PLUGIN_NAMES,
  ROLES,
  registerPluginErrors,
} from '@cedana/core';
import semver from 'semver';
import { HOST_MODULES_DIR, HOST_PROVIDED, provideHostModules } from './host-modules.js';

/** A plugin whose import has not settled by then is marked as failed. */
const IMPORT_TIMEOUT_MS = 10_000;

/** The fields of a plugin's package.json the host reads. */
export interface PackageJson {
  name?: string;
  version?: string;
  main?: string;
  exports?: unknown;
  cedana?: Partial<PluginManifest>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

class LoadFailure extends Error {
  constructor(
    readonly phase: LoadPhase,
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Loads every plugin under `dir` (highest version of each); order is by name. */
export async function loadPlugins(dir: string): Promise<LoadedPlugin[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== HOST_MODULES_DIR)
      .map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  names.sort();
  await provideHostModules(dir);
  return Promise.all(
    names.map((name) =>
      loadPlugin(
        insideFolder(dir, [name], (why) => new Error(why)),
        name,
      ),
    ),
  );
}

/** Loads the highest installed version of the plugin whose versions live under `pluginDir`. */
export async function loadPlugin(pluginDir: string, name: string): Promise<LoadedPlugin> {
  const record: LoadedPlugin = { name, version: '', path: pluginDir, status: 'error' };
  try {
    record.path = await resolveVersionDir(pluginDir);
    const pkg = await readManifest(record.path);
    record.version = pkg.version ?? '';
    checkEngines(pkg);
    const started = performance.now();
    const definition = await importEntry(record.path, pkg);
    record.loadMs = Math.round(performance.now() - started);
    checkDefinition(definition, pkg);
    registerErrors(definition, pkg);
    record.definition = definition;
    record.status = 'ok';
  } catch (err) {
    const f = err instanceof LoadFailure ? err : new LoadFailure('import', 'CEDANA_ERR_PLUGIN_IMPORT', (err as Error).message);
    record.phase = f.phase;
    record.error = new CedanaError(f.code, `plugin "${name}" (${f.phase}): ${f.message}`, { hint: f.hint, cause: err });
  }
  return record;
}

// resolve
async function resolveVersionDir(pluginDir: string): Promise<string> {
  const entries = await readdir(pluginDir, { withFileTypes: true });
  // Version folders may be symlinks (e.g. to a workspace package under development).
  const versions = entries.filter((d) => d.isDirectory() || d.isSymbolicLink()).map((d) => d.name);
  const valid = newestFirst(versions);
  // The highest version made for this host; only when none is, the highest (its engines phase then says why).
  const chosen = (await firstCompatible(pluginDir, valid)) ?? valid[0];
  if (!chosen) {
    throw new LoadFailure(
      'resolve',
      'CEDANA_ERR_PLUGIN_MANIFEST',
      `no version folder in ${pluginDir} (found: ${versions.join(', ') || 'nothing'})`,
      'reinstall the plugin with `cedana plugin install NAME`',
    );
  }
  return insideFolder(pluginDir, [chosen], (why) => new LoadFailure('resolve', 'CEDANA_ERR_PLUGIN_MANIFEST', `version folder ${why}`));
}

/** The first of `versions` whose package.json is a plugin made for this host. */
async function firstCompatible(pluginDir: string, versions: string[]): Promise<string | undefined> {
  for (const v of versions) {
    try {
      const pkg = JSON.parse(await readFile(join(pluginDir, v, 'package.json'), 'utf8')) as PackageJson;
      checkEngines(pkg);
      return v;
    } catch {}
  }
  return undefined;
}

/**
 * The checks `cedana plugin install` makes before it installs anything: the package is a
 * cedana plugin (manifest) made for this host (engines). Throws the phase's CedanaError.
 */
export function checkPluginPackage(pkg: PackageJson): void {
  try {
    checkManifest(pkg, pkg.name ?? 'the package');
    checkEngines(pkg);
  } catch (err) {
    if (!(err instanceof LoadFailure)) throw err;
    throw new CedanaError(err.code, err.message, { hint: err.hint });
  }
}

// manifest
async function readManifest(dir: string): Promise<PackageJson> {
  let pkg: PackageJson;
  try {
    pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch (err) {
    throw new LoadFailure('manifest', 'CEDANA_ERR_PLUGIN_MANIFEST', `cannot read ${join(dir, 'package.json')}: ${(err as Error).message}`);
  }
  checkManifest(pkg, dir);
  return pkg;
}

function checkManifest(pkg: PackageJson, where: string): void {
  if (typeof pkg.cedana?.plugin !== 'string' || typeof pkg.cedana.engines !== 'string') {
    throw new LoadFailure(
      'manifest',
      'CEDANA_ERR_PLUGIN_MANIFEST',
      `package ${pkg.name ?? where} is not a cedana plugin: its package.json has no "cedana": { "plugin", "engines" }`,
    );
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(pkg.cedana.plugin) || pkg.cedana.plugin === HOST_MODULES_DIR) {
    throw new LoadFailure(
      'manifest',
      'CEDANA_ERR_PLUGIN_MANIFEST',
      `"cedana.plugin" of ${pkg.name ?? where} is ${JSON.stringify(pkg.cedana.plugin)}: a plugin name is lower case letters, digits, ".", "_" and "-"`,
    );
  }
  if ((RESERVED_PLUGIN_NAMES as readonly string[]).includes(pkg.cedana.plugin)) {
    throw new LoadFailure(
      'manifest',
      'CEDANA_ERR_PLUGIN_MANIFEST',
      `"cedana.plugin" of ${pkg.name ?? where} is "${pkg.cedana.plugin}", a name cedana keeps for itself (${RESERVED_PLUGIN_NAMES.join(', ')}): a plugin so named would never run`,
      'give the plugin a name of its own; to act on every job type, declare `appliesTo: "*"` in definePlugin (docs/writing-plugins.md)',
    );
  }
}

// engines
function checkEngines(pkg: PackageJson): void {
  const range = pkg.cedana?.engines ?? '';
  if (!semver.validRange(range)) {
    throw new LoadFailure(
      'engines',
      'CEDANA_ERR_PLUGIN_MANIFEST',
      `"cedana.engines" of ${pkg.name} is not a semver range: ${JSON.stringify(range)}`,
    );
  }
  if (!semver.satisfies(HOST_VERSION, range, { includePrerelease: true })) {
    throw new LoadFailure(
      'engines',
      'CEDANA_ERR_PLUGIN_ENGINE',
      `${pkg.name}@${pkg.version} works with cedana ${range}, this is cedana ${HOST_VERSION}`,
    );
  }
  // The host provides the SDK and core (host-modules.ts), versioned with the host.
  for (const name of HOST_PROVIDED) {
    const wanted = pkg.peerDependencies?.[name] ?? pkg.dependencies?.[name];
    if (wanted && semver.validRange(wanted) && !semver.satisfies(HOST_VERSION, wanted, { includePrerelease: true })) {
      throw new LoadFailure(
        'engines',
        'CEDANA_ERR_PLUGIN_ENGINE',
        `${pkg.name}@${pkg.version} needs ${name} ${wanted}, this cedana provides ${HOST_VERSION}`,
      );
    }
  }
}

// import
async function importEntry(dir: string, pkg: PackageJson): Promise<unknown> {
  // "main" or "exports" of ../../x.js would import a file of another folder.
  const entry = insideFolder(
    dir,
    [entryOf(pkg)],
    (why) =>
      new LoadFailure(
        'import',
        'CEDANA_ERR_PLUGIN_MANIFEST',
        `the entry of ${pkg.name} (its package.json's "exports" or "main") must be a file inside ${dir}: ${why}`,
        'the package is broken: report it to its author',
      ),
  );
  const { mtimeMs } = await stat(entry).catch(() => {
    throw new LoadFailure('import', 'CEDANA_ERR_PLUGIN_IMPORT', `entry ${entry} does not exist`, 'the package is incomplete: reinstall it');
  });
  const url = `${pathToFileURL(entry).href}?t=${Math.trunc(mtimeMs)}`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LoadFailure(
            'import',
            'CEDANA_ERR_PLUGIN_IMPORT',
            `import did not finish in ${IMPORT_TIMEOUT_MS / 1000} s`,
            'the plugin hangs at load time (top-level await?): report it to its author',
          ),
        ),
      IMPORT_TIMEOUT_MS,
    );
  });
  try {
    const mod = (await Promise.race([import(url), timeout])) as { default?: unknown };
    return mod.default;
  } catch (err) {
    if (err instanceof LoadFailure) throw err;
    const message = (err as Error).message;
    const host = HOST_PROVIDED.find((name) => message.includes(`Cannot find package '${name}'`));
    throw new LoadFailure(
      'import',
      'CEDANA_ERR_PLUGIN_IMPORT',
      `import of ${entry} threw: ${message}`,
      host &&
        `cedana provides ${host} to plugins through ${join(dir, '..', '..', HOST_MODULES_DIR)}: run a cedana command (e.g. \`cedana features\`) as the owner of the plugins folder, root by default, to create it`,
    );
  } finally {
    clearTimeout(timer);
  }
}

function entryOf(pkg: PackageJson): string {
  const exp = pkg.exports;
  if (typeof exp === 'string') return exp;
  if (exp && typeof exp === 'object') {
    const dot = (exp as Record<string, unknown>)['.'] ?? exp;
    if (typeof dot === 'string') return dot;
    if (dot && typeof dot === 'object') {
      const d = dot as Record<string, unknown>;
      const target = d.import ?? d.default;
      if (typeof target === 'string') return target;
    }
  }
  return pkg.main ?? 'index.js';
}

// shape
function checkDefinition(def: unknown, pkg: PackageJson): asserts def is PluginDefinition {
  const d = def as Partial<PluginDefinition> | undefined;
  if (typeof d !== 'object' || d === null) {
    throw new LoadFailure(
      'shape',
      'CEDANA_ERR_PLUGIN_SHAPE',
      `the default export of ${pkg.name} is ${d === undefined ? 'missing' : typeof d}, expected { name, version, features }`,
      'export default definePlugin({ ... }) from the entry',
    );
  }
  if (typeof d.features !== 'object' || d.features === null) {
    throw new LoadFailure(
      'shape',
      'CEDANA_ERR_PLUGIN_SHAPE',
      `the default export of ${pkg.name} has no "features" object (keys: ${Object.keys(d).join(', ')})`,
    );
  }
  const to = d.appliesTo;
  if (to !== undefined && to !== '*' && !(Array.isArray(to) && to.every((t) => typeof t === 'string'))) {
    throw new LoadFailure(
      'shape',
      'CEDANA_ERR_PLUGIN_SHAPE',
      `"appliesTo" of ${pkg.name} is ${JSON.stringify(to)}, expected "*" or a list of job types such as ["process", "my-runtime"]`,
    );
  }
  if (d.role !== undefined && !isRole(d.role)) {
    throw new LoadFailure(
      'shape',
      'CEDANA_ERR_PLUGIN_SHAPE',
      `"role" of ${pkg.name} is ${JSON.stringify(d.role)}, expected one of ${Object.keys(ROLES).join(', ')}`,
    );
  }
  if (d.requires !== undefined && !(Array.isArray(d.requires) && d.requires.every(isRole))) {
    throw new LoadFailure(
      'shape',
      'CEDANA_ERR_PLUGIN_SHAPE',
      `"requires" of ${pkg.name} is ${JSON.stringify(d.requires)}, expected a list of roles (${Object.keys(ROLES).join(', ')})`,
    );
  }
  const lacking = d.role ? ROLES[d.role].features.filter((f) => (d.features as Record<string, unknown>)[f] === undefined) : [];
  if (lacking.length > 0) {
    throw new LoadFailure(
      'shape',
      'CEDANA_ERR_PLUGIN_SHAPE',
      `${pkg.name} declares role "${d.role}" but does not export ${lacking.join(', ')}, which that role needs`,
      'export the features of the role (docs/writing-plugins.md, "Roles"), or leave "role" out',
    );
  }
  if (d.name !== undefined && d.name !== pkg.cedana?.plugin) {
    throw new LoadFailure(
      'shape',
      'CEDANA_ERR_PLUGIN_SHAPE',
      `the plugin calls itself "${d.name}" but its package.json says "cedana.plugin": "${pkg.cedana?.plugin}"`,
    );
  }
}

/** Registers the plugin's own error codes; refuses codes core or another plugin owns, or not named after it. */
function registerErrors(def: PluginDefinition, pkg: PackageJson): void {
  const wrong = registerPluginErrors(pkg.cedana?.plugin ?? def.name, def.errors);
  if (wrong) {
    throw new LoadFailure(
      'shape',
      'CEDANA_ERR_PLUGIN_SHAPE',
      `${pkg.name}: ${wrong}`,
      'declare only codes of the plugin (CEDANA_ERR_<NAME>_<WHAT>) with a gRPC status and a hint; use core codes by their name',
    );
  }
}
