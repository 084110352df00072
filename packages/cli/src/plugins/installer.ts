/**
 * Installs and removes plugins in the plugins dir, atomically. A plugin is fetched
 * (fetch.ts), unpacked, given its dependencies (npm.ts) and test-loaded in a staging
 * folder inside the plugins dir; only then is it renamed into `<name>/<version>/`. A
 * command killed at any point before that rename leaves the previous version as it
 * was; the next command clears what it left (lock.ts). The caller holds the lock.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError, type Feature, features, insideFolder, type LoadedPlugin } from '@cedana/core';
import { checkPluginPackage, HOST_PROVIDED, loadPlugin, type PackageJson, provideHostModules } from '@cedana/daemon/plugins';
import semver from 'semver';
import { du } from './disk-size.js';
import { extractPlugin, type FetchOptions, resolvePlugin } from './fetch.js';
import { type InstalledRecord, readInstalled, scanInstalled, writeInstalled } from './installed.js';
import { STAGING_DIR, TRASH_DIR } from './lock.js';
import { installDependencies, runInstallScripts } from './npm.js';
import { checkPackageIdentity } from './package-identity.js';
import { describeSpec, type PluginSpec } from './spec.js';

export interface InstallOptions extends FetchOptions {
  pluginsDir: string;
  /** Reinstall an unchanged version; install even if the plugin fails its test load. */
  force: boolean;
  signal?: AbortSignal;
}

export interface InstallResult {
  plugin: string;
  name: string;
  version: string;
  /** What changed: a new plugin, another version, the same version again, or nothing. */
  action: 'installed' | 'upgraded' | 'downgraded' | 'reinstalled' | 'unchanged';
  previous?: string;
  record: InstalledRecord;
  /** Problems that did not stop the install (e.g. a feature of the wrong shape). */
  warnings: string[];
  /**
   * Lower versions left in place by an upgrade until the daemon has loaded the new one
   * (`settleUpgrade`): the way back without the registry. Their installed.json record is `previousRecord`.
   */
  kept?: string[];
  previousRecord?: InstalledRecord;
}

export async function installPlugin(spec: PluginSpec, opts: InstallOptions): Promise<InstallResult> {
  const r = await resolvePlugin(spec, opts);
  // Name and version become paths below: both are checked before any path is built.
  const { name, version } = checkPackageIdentity(r.manifest, describeSpec(spec));
  checkPluginPackage(r.manifest); // a cedana plugin, made for this host
  const plugin = r.manifest.cedana?.plugin as string;

  const records = await readInstalled(opts.pluginsDir);
  const current = (await scanInstalled(opts.pluginsDir)).find((p) => p.plugin === plugin);
  if (current?.version && current.name !== name && !opts.force) {
    throw new CedanaError(
      'CEDANA_ERR_PLUGIN_INSTALL',
      `plugin name "${plugin}" is taken by ${current.name}, which is installed; ${name} wants it too`,
      {
        hint: `remove it first (\`cedana plugin remove ${plugin}\`), or pass --force to replace it`,
      },
    );
  }
  const old = records[plugin];
  if (!opts.force && old && current?.version === version && old.version === version && old.integrity && old.integrity === r.integrity) {
    return { plugin, name, version, action: 'unchanged', previous: version, record: old, warnings: [] };
  }

  await provideHostModules(opts.pluginsDir); // the test load below imports the SDK from there
  const stagingName = `${plugin}-${version}-${randomBytes(4).toString('hex')}`;
  const staging = inPluginsDir(opts.pluginsDir, STAGING_DIR, stagingName);
  const staged = inPluginsDir(opts.pluginsDir, STAGING_DIR, stagingName, plugin, version);
  try {
    const integrity = await extractPlugin(r, staged, join(staging, 'pack'), opts);
    const pkg = JSON.parse(await readFile(join(staged, 'package.json'), 'utf8')) as PackageJson & { scripts?: Record<string, string> };
    // What was unpacked is what gets installed: a registry's metadata may differ from the tarball's package.json.
    const unpacked = checkPackageIdentity(pkg, describeSpec(spec));
    if (unpacked.name !== name || unpacked.version !== version) {
      throw new CedanaError(
        'CEDANA_ERR_PLUGIN_MANIFEST',
        `${describeSpec(spec)} was announced as ${name}@${version}, but its tarball's package.json says ${unpacked.name}@${unpacked.version}; nothing was installed`,
      );
    }
    const npmOpts = { registry: opts.registry, allowScripts: opts.allowScripts, timeoutMs: opts.timeoutMs, signal: opts.signal };
    const dependencies = await installDependencies(staged, pkg, join(staging, 'deps'), HOST_PROVIDED, npmOpts);
    if (opts.allowScripts) await runInstallScripts(staged, pkg, npmOpts);
    opts.signal?.throwIfAborted();

    const loaded = await loadPlugin(join(staging, plugin), plugin);
    if (loaded.status !== 'ok' && !opts.force)
      throw testLoadFailure(loaded, name, version, staging, join(opts.pluginsDir, plugin, version));

    const size = await du(staged);
    const previous = current?.version || undefined;
    const kept = await commit(opts.pluginsDir, plugin, version, staged);
    const record: InstalledRecord = {
      plugin,
      name,
      version,
      source: r.source,
      resolved: r.resolved,
      integrity,
      installedAt: new Date().toISOString(),
      ...(dependencies.length > 0 ? { dependencies } : {}),
      size,
    };
    await writeInstalled(opts.pluginsDir, { ...(await readInstalled(opts.pluginsDir)), [plugin]: record });
    return {
      plugin,
      name,
      version,
      action: actionOf(previous, version),
      ...(previous ? { previous } : {}),
      record,
      warnings: shapeWarnings(loaded),
      ...(kept.length > 0 ? { kept, ...(old ? { previousRecord: old } : {}) } : {}),
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Moves `<plugin>/` out of the plugins dir (into the trash, emptied after the daemon reloaded). */
export async function removePlugin(pluginsDir: string, plugin: string): Promise<InstalledRecord | undefined> {
  const found = (await scanInstalled(pluginsDir)).find((p) => p.plugin === plugin);
  if (!found) {
    const names = (await scanInstalled(pluginsDir)).map((p) => p.plugin);
    throw new CedanaError('CEDANA_ERR_PLUGIN_NOT_FOUND', `plugin "${plugin}" is not installed in ${pluginsDir}`, {
      hint: `installed: ${names.join(', ') || 'none'}; \`cedana plugin list\` shows them`,
    });
  }
  await moveToTrash(pluginsDir, found.dir);
  const records = await readInstalled(pluginsDir);
  const record = records[plugin];
  delete records[plugin];
  await writeInstalled(pluginsDir, records);
  return record;
}

/** Empties the trash: call after the daemon has let go of what is in it. */
export async function emptyTrash(pluginsDir: string): Promise<void> {
  await rm(join(pluginsDir, TRASH_DIR), { recursive: true, force: true });
}

/**
 * Renames the staged version into place: the one step that changes what loads (the loader
 * takes the highest version). Higher versions go to the trash (a downgrade); lower ones stay
 * until the daemon has loaded the new one (settleUpgrade), and are returned.
 */
async function commit(pluginsDir: string, plugin: string, version: string, staged: string): Promise<string[]> {
  const dir = inPluginsDir(pluginsDir, plugin);
  await mkdir(dir, { recursive: true });
  const found = (await scanInstalled(pluginsDir)).find((p) => p.plugin === plugin);
  if (found?.versions.includes(version)) await moveToTrash(pluginsDir, inPluginsDir(pluginsDir, plugin, version));
  await rename(staged, inPluginsDir(pluginsDir, plugin, version));
  const others = (found?.versions ?? []).filter((v) => v !== version);
  for (const other of others)
    if (!semver.valid(other) || semver.gt(other, version)) await moveToTrash(pluginsDir, inPluginsDir(pluginsDir, plugin, other));
  return others.filter((v) => semver.valid(v) && semver.lt(v, version));
}

/**
 * After the daemon reloaded (or when none runs): an upgrade that loaded drops the versions it
 * kept; one that did not is rolled back, the new version to the trash and the previous
 * record restored, so the kept version loads again. Returns the version rolled back to.
 */
export async function settleUpgrade(pluginsDir: string, r: InstallResult, loadedOk: boolean): Promise<string | undefined> {
  if (loadedOk || !r.kept?.length) {
    for (const v of r.kept ?? []) await moveToTrash(pluginsDir, inPluginsDir(pluginsDir, r.plugin, v)).catch(() => {});
    return undefined;
  }
  await moveToTrash(pluginsDir, inPluginsDir(pluginsDir, r.plugin, r.version));
  const back = [...r.kept].sort(semver.rcompare)[0] as string;
  for (const v of r.kept) if (v !== back) await moveToTrash(pluginsDir, inPluginsDir(pluginsDir, r.plugin, v)).catch(() => {});
  const records = await readInstalled(pluginsDir);
  if (r.previousRecord) records[r.plugin] = r.previousRecord;
  else delete records[r.plugin];
  await writeInstalled(pluginsDir, records);
  return back;
}

async function moveToTrash(pluginsDir: string, path: string): Promise<void> {
  const trash = inPluginsDir(pluginsDir, TRASH_DIR);
  await mkdir(trash, { recursive: true });
  await rename(path, join(trash, randomBytes(6).toString('hex')));
}

/** Every path the installer writes: `parts` joined under the plugins dir, refused if it would leave it. */
function inPluginsDir(pluginsDir: string, ...parts: string[]): string {
  return insideFolder(
    pluginsDir,
    parts,
    (reason) =>
      new CedanaError('CEDANA_ERR_PLUGIN_INSTALL', `refusing to write outside the plugins folder ${pluginsDir}: ${reason}`, {
        hint: 'the package names a path that leaves the plugins folder: it was not installed',
      }),
  );
}

function actionOf(previous: string | undefined, version: string): InstallResult['action'] {
  if (!previous) return 'installed';
  if (previous === version) return 'reinstalled';
  return semver.gt(version, previous) ? 'upgraded' : 'downgraded';
}

/** Features exported with a wrong shape: the plugin loads, but they will be left out. */
function shapeWarnings(p: LoadedPlugin): string[] {
  const exported = (p.definition?.features ?? {}) as Record<string, unknown>;
  return (features.FEATURES as readonly Feature<unknown>[])
    .filter((f) => exported[f.symbol] !== undefined && !f.shape.test(exported[f.symbol]))
    .map((f) => f.incompatible(p.name, exported[f.symbol]).message)
    .concat(p.status === 'ok' ? [] : [`${p.error?.message} (installed anyway: --force)`]);
}

/**
 * Why the staged copy failed its test load, said once (the caller prefixes "cannot install X:")
 * and about the folder it would have had: the staging folder is gone by the time it is read.
 */
function testLoadFailure(loaded: LoadedPlugin, name: string, version: string, staging: string, final: string): CedanaError {
  const e = loaded.error as CedanaError;
  const detail = e.message
    .replace(`plugin "${loaded.name}" (${loaded.phase}): `, '')
    .replaceAll(join(staging, loaded.name, version), final);
  return new CedanaError(e.code, `${name}@${version} failed to load (${loaded.phase}), so nothing was installed: ${detail}`, {
    hint: `${loaded.phase === 'import' ? 'report the error to its author' : (e.hint ?? 'fix the package')}; --force installs it anyway`,
    cause: e,
  });
}
