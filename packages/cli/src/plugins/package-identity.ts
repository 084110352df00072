/**
 * A package's name and version become folders (`<plugins dir>/<plugin>/<version>/`) and
 * npm's node_modules entries, so they are checked before any path is built from them: an
 * npm package name by npm-package-arg's own rules (validate-npm-package-name), a version
 * by semver.valid in its clean form, every dependency name by the same name rules. A
 * tarball whose package.json says `"version": "../../tmp/x"` is refused here, before
 * anything is unpacked.
 */
import { CedanaError } from '@cedana/core';
import npa from 'npm-package-arg';
import semver from 'semver';

export interface PackageIdentity {
  name?: unknown;
  version?: unknown;
  dependencies?: unknown;
  optionalDependencies?: unknown;
}

/** Throws CEDANA_ERR_PLUGIN_MANIFEST naming the field, unless name, version and dependency names are safe. */
export function checkPackageIdentity(pkg: PackageIdentity, where: string): { name: string; version: string } {
  const { name, version } = pkg;
  const nameWhy = typeof name === 'string' ? nameProblem(name) : 'it is not a string';
  if (typeof name !== 'string' || nameWhy) {
    throw invalid(where, `"name": ${JSON.stringify(name)} is not an npm package name (${nameWhy})`);
  }
  if (typeof version !== 'string' || semver.valid(version) !== version) {
    throw invalid(where, `"version": ${JSON.stringify(version)} of ${name} is not a semver version such as 1.2.3`);
  }
  for (const field of ['dependencies', 'optionalDependencies'] as const) {
    const deps = pkg[field];
    if (deps === undefined) continue;
    if (typeof deps !== 'object' || deps === null) throw invalid(where, `"${field}" of ${name} is not an object`);
    for (const dep of Object.keys(deps)) {
      const why = nameProblem(dep);
      if (why) throw invalid(where, `"${field}" of ${name} names ${JSON.stringify(dep)}, not an npm package name (${why})`);
    }
  }
  return { name, version };
}

/** npm-package-arg's validation of a name (it throws EINVALIDPACKAGENAME with npm's reasons). */
function nameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  try {
    npa.resolve(name, '*');
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^.*?: /, '').replace(/\.$/, '') || 'invalid';
  }
}

function invalid(where: string, what: string): CedanaError {
  return new CedanaError('CEDANA_ERR_PLUGIN_MANIFEST', `the package.json of ${where}: ${what}; nothing was installed`, {
    hint: 'a plugin package needs an npm name (lower case, no "..", at most one "@scope/") and a semver version (1.2.3); fix its package.json and pack it again',
  });
}
