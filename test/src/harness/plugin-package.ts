/**
 * Plugin packages made on the spot for the plugin tests: plain-JS folders (no SDK, no
 * build), each a failure mode or a feature, and tarballs of them made with `npm pack`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TestDaemon } from './daemon.js';

const run = promisify(execFile);

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CATALOG = join(ROOT, 'packages/cli/catalog');

export interface PluginPackage {
  /** npm package name; default `cedana-plugin-<plugin>` */
  name?: string;
  plugin: string;
  version?: string;
  engines?: string;
  /** The ESM entry's source; default: a plugin exporting `features`. */
  entry?: string;
  /** `features` object literal (JS source) of the default entry. */
  features?: string;
  dependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  /** false: no "cedana" field (not a plugin). */
  cedana?: boolean;
}

/** Writes the package into `<parent>/<plugin>-<version>/` and returns that folder. */
export async function writePluginPackage(parent: string, p: PluginPackage): Promise<string> {
  const version = p.version ?? '1.0.0';
  const dir = join(parent, `${p.plugin}-${version}`);
  await mkdir(dir, { recursive: true });
  const pkg = {
    name: p.name ?? `cedana-plugin-${p.plugin}`,
    version,
    type: 'module',
    main: 'index.js',
    ...(p.dependencies ? { dependencies: p.dependencies } : {}),
    ...(p.scripts ? { scripts: p.scripts } : {}),
    ...(p.cedana === false ? {} : { cedana: { plugin: p.plugin, engines: p.engines ?? '*' } }),
  };
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const entry =
    p.entry ??
    `export default { name: ${JSON.stringify(p.plugin)}, version: ${JSON.stringify(version)}, features: ${p.features ?? '{}'} };\n`;
  await writeFile(join(dir, 'index.js'), entry);
  return dir;
}

/** `npm pack` of a folder into `dest`; the tarball's path. */
export async function npmPack(folder: string, dest: string): Promise<string> {
  await mkdir(dest, { recursive: true });
  const { stdout } = await run('npm', ['pack', folder, '--json', '--ignore-scripts', '--pack-destination', dest], {
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  return join(dest, (JSON.parse(stdout) as { filename: string }[])[0]?.filename ?? '');
}

/** A copy of a catalog package (unpacked) with another version: what a newer release looks like. */
export async function catalogPackageAs(
  plugin: string,
  version: string,
  dest: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const catalog = JSON.parse(await readFile(join(CATALOG, 'catalog.json'), 'utf8')) as { plugins: { plugin: string; file: string }[] };
  const entry = catalog.plugins.find((p) => p.plugin === plugin);
  if (!entry) throw new Error(`${plugin} is not in the catalog: run pnpm build`);
  const dir = join(dest, `${plugin}-${version}`);
  await mkdir(dir, { recursive: true });
  await run('tar', ['xzf', join(CATALOG, entry.file), '-C', dir, '--strip-components=1']);
  const pkgFile = join(dir, 'package.json');
  const pkg = JSON.parse(await readFile(pkgFile, 'utf8')) as Record<string, unknown>;
  await writeFile(pkgFile, JSON.stringify({ ...pkg, version, ...extra }, null, 2));
  return dir;
}

/**
 * A daemon with a plugins folder of its own: criu from the local catalog, then each plain-JS
 * package given, installed through the CLI (which has the daemon load it).
 */
export async function startWithPlugins(...packages: PluginPackage[]): Promise<TestDaemon> {
  const d = await TestDaemon.start();
  d.env.CEDANA_PLUGINS_DIR = join(d.dir, 'plugins');
  await d.restart();
  for (const args of [
    ['criu', '--registry', ''],
    ...(await Promise.all(packages.map(async (p) => [await writePluginPackage(d.dir, p)]))),
  ]) {
    const r = await d.cli(['plugin', 'install', ...args]);
    assert.equal(r.code, 0, r.stderr);
  }
  return d;
}
