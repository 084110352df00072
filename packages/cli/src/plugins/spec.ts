/**
 * What `cedana plugin install SPEC` was given: a short name (`runc`), any spec npm
 * accepts for a registry (`name`, `name@range`, `name@tag`), a `.tgz` tarball, a folder,
 * or a tarball URL. Parsed by npm's own npm-package-arg.
 */
import { resolve } from 'node:path';
import { CedanaError, firstParty, packageOf } from '@cedana/core';
import npa from 'npm-package-arg';

export type PluginSpec =
  /** From the registry, or the local catalog when no registry is set. */
  | { kind: 'registry'; raw: string; name: string; range: string }
  | { kind: 'file'; raw: string; path: string }
  | { kind: 'directory'; raw: string; path: string }
  | { kind: 'remote'; raw: string; url: string };

export function parseSpec(raw: string, cwd = process.cwd()): PluginSpec {
  const trimmed = raw.trim();
  let parsed: npa.Result;
  try {
    parsed = npa(shortToPackage(trimmed), cwd);
  } catch (err) {
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `"${raw}" is not a plugin name or package spec: ${(err as Error).message}`, {
      hint: 'give a short name (`cedana plugin list` shows them), an npm package (name@range), a .tgz file or a folder',
    });
  }
  switch (parsed.type) {
    case 'tag':
    case 'version':
    case 'range':
      return { kind: 'registry', raw, name: parsed.name ?? '', range: parsed.rawSpec === '' ? '*' : parsed.rawSpec };
    case 'file':
      return { kind: 'file', raw, path: resolve(cwd, parsed.fetchSpec ?? '') };
    case 'directory':
      return { kind: 'directory', raw, path: resolve(cwd, parsed.fetchSpec ?? '') };
    case 'remote':
      return { kind: 'remote', raw, url: parsed.fetchSpec ?? '' };
    default:
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `"${raw}" is a ${parsed.type} spec, which cedana does not install`, {
        hint: 'give a short name (`cedana plugin list` shows them), an npm package (name@range), a .tgz file, a folder or a tarball URL',
      });
  }
}

/** `runc` and `runc@^1` stand for `@cedana/plugin-runc[@^1]`; anything else is left as it is. */
function shortToPackage(spec: string): string {
  const at = spec.indexOf('@', 1);
  const name = at === -1 ? spec : spec.slice(0, at);
  return firstParty(name)?.name === name ? packageOf(name) + (at === -1 ? '' : spec.slice(at)) : spec;
}

/** How a spec is shown to people: `@cedana/plugin-runc@^1`, `./x.tgz`. */
export function describeSpec(spec: PluginSpec): string {
  return spec.kind === 'registry' ? `${spec.name}${spec.range === '*' ? '' : `@${spec.range}`}` : spec.raw;
}
