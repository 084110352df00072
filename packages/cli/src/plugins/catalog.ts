/**
 * The local catalog: a tarball of every first-party plugin, made by the build
 * (scripts/build-catalog.mjs, with `pnpm pack`) and shipped beside the CLI, with
 * catalog.json recording each tarball's name, version and integrity. Without a
 * registry, `cedana plugin install` takes plugins from here: no network.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

/** One tarball of the catalog. */
export interface CatalogEntry {
  /** npm package name, e.g. @cedana/plugin-criu */
  name: string;
  /** short name (`cedana.plugin`) */
  plugin: string;
  version: string;
  /** tarball file, relative to the catalog folder */
  file: string;
  integrity: string;
}

export interface Catalog {
  dir: string;
  entries: CatalogEntry[];
  /** The plugin SDK's tarball (scripts/pack-sdk.mjs): what third parties build against. */
  sdk?: Omit<CatalogEntry, 'plugin'>;
  /** Set when there is no usable catalog.json: why. */
  problem?: string;
}

/** The catalog shipped with this CLI (packages/cli/catalog/), unless config names another. */
export const DEFAULT_CATALOG_DIR = fileURLToPath(new URL('../../catalog/', import.meta.url));

export function catalogDir(configured: string): string {
  return configured || DEFAULT_CATALOG_DIR;
}

export async function readCatalog(dir: string): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(join(dir, 'catalog.json'), 'utf8');
  } catch {
    return { dir, entries: [], problem: `no catalog at ${dir} (the build makes it: pnpm build)` };
  }
  try {
    const parsed = JSON.parse(text) as { plugins?: CatalogEntry[]; sdk?: Catalog['sdk'] };
    return { dir, entries: (parsed.plugins ?? []).filter((e) => semver.valid(e.version)), ...(parsed.sdk ? { sdk: parsed.sdk } : {}) };
  } catch (err) {
    return { dir, entries: [], problem: `${join(dir, 'catalog.json')} is not valid JSON: ${(err as Error).message}` };
  }
}

/** The highest version of `name` in the catalog that satisfies `range` (`*` or a dist-tag: the highest). */
export function pickFromCatalog(catalog: Catalog, name: string, range: string): CatalogEntry | undefined {
  const wanted = semver.validRange(range) ? range : '*';
  return catalog.entries
    .filter((e) => e.name === name && semver.satisfies(e.version, wanted, { includePrerelease: wanted !== '*' }))
    .sort((a, b) => semver.rcompare(a.version, b.version))[0];
}

/**
 * The highest release of `name` in the catalog: what pickFromCatalog picks for `*`, without
 * parsing a range (semver's range parse compiles its tilde/caret/x-range regexes, ~10 ms of
 * `plugin list`, which asks this for every plugin).
 */
export function latestInCatalog(catalog: Catalog, name: string): string | undefined {
  return catalog.entries
    .filter((e) => e.name === name && semver.prerelease(e.version) === null)
    .map((e) => e.version)
    .sort(semver.rcompare)[0];
}
