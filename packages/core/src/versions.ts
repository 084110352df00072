/**
 * Version order, by semver, for everything that picks or compares versions: the plugin
 * loader's version folders, the CLI's installed list, a plugin's minimum peer version.
 */
import semver from 'semver';

/** The semver versions among `names` (folder names, say), newest first; the rest dropped. */
export function newestFirst(names: readonly string[]): string[] {
  return names.filter((v) => semver.valid(v)).sort(semver.rcompare);
}

/**
 * True when `version` is `min` or newer. A leading `v` and a pre-release of `min` count
 * as `min` (a 1.0.0-rc1 daemon has what 1.0.0 needs of it); a version that is no semver is not.
 */
export function atLeastVersion(version: string, min: string): boolean {
  const v = semver.coerce(version, { includePrerelease: false });
  return v !== null && semver.gte(v, min);
}
