/**
 * Fetching plugin packages with pacote, npm's own fetcher: a registry spec from the
 * registry (or, with none configured, from the local catalog, checked against the
 * integrity catalog.json records), a tarball, a folder (packed by `npm pack`), or a
 * tarball URL. Every tarball is integrity-checked while it is unpacked.
 */
import { CedanaError, HOST_VERSION, insideFolder } from '@cedana/core';
import { checkPluginPackage, type PackageJson } from '@cedana/daemon/plugins';
import pacote from 'pacote';
import semver from 'semver';
import { type Catalog, pickFromCatalog } from './catalog.js';
import { packFolder } from './npm.js';
import { describeSpec, type PluginSpec } from './spec.js';

export type Source = 'registry' | 'catalog' | 'file' | 'directory' | 'remote';

export interface FetchOptions {
  /** npm registry URL; empty: registry specs come from the local catalog. */
  registry: string;
  catalog: Catalog;
  /** Per request to the registry. */
  timeoutMs: number;
  allowScripts: boolean;
}

/** A plugin package found, not yet fetched. */
export interface Resolved {
  spec: PluginSpec;
  manifest: PackageJson & { name: string; version: string };
  source: Source;
  /** What pacote fetches: `name@version`, `file:/x.tgz`, a URL, or a folder. */
  fetchSpec: string;
  /** Expected integrity, when the source records one (registry, catalog). */
  integrity?: string;
  /** Where it came from: the tarball URL or file, or the folder. */
  resolved: string;
}

/** Reads the package.json of what `spec` names, from the registry, the catalog or the file. */
export async function resolvePlugin(spec: PluginSpec, opts: FetchOptions): Promise<Resolved> {
  const where =
    spec.kind === 'registry' ? (opts.registry ? `registry ${opts.registry}` : `the local catalog (${opts.catalog.dir})`) : spec.raw;
  try {
    if (spec.kind === 'registry' && !opts.registry) {
      const entry = pickFromCatalog(opts.catalog, spec.name, spec.range);
      if (!entry) throw notInCatalog(spec, opts.catalog);
      const file = insideFolder(opts.catalog.dir, [entry.file], (why) => new Error(`catalog entry ${entry.name}@${entry.version}: ${why}`));
      const manifest = await pacote.manifest(`file:${file}`, { ...pacoteOptions(opts), integrity: entry.integrity } as pacote.Options);
      return {
        spec,
        manifest: manifest as Resolved['manifest'],
        source: 'catalog',
        fetchSpec: `file:${file}`,
        integrity: entry.integrity,
        resolved: file,
      };
    }
    const fetchSpec =
      spec.kind === 'registry'
        ? `${spec.name}@${await newestCompatible(spec.name, spec.range, opts)}`
        : spec.kind === 'remote'
          ? spec.url
          : `file:${spec.path}`;
    const m = (await pacote.manifest(fetchSpec, pacoteOptions(opts))) as pacote.ManifestResult & Resolved['manifest'];
    if (spec.kind === 'registry') {
      return { spec, manifest: m, source: 'registry', fetchSpec: `${m.name}@${m.version}`, integrity: m._integrity, resolved: m._resolved };
    }
    return { spec, manifest: m, source: spec.kind, fetchSpec, integrity: m._integrity || undefined, resolved: m._resolved || spec.raw };
  } catch (err) {
    throw fetchError(err, describeSpec(spec), where);
  }
}

/** Unpacks the package into `dest`, checking its integrity; returns the integrity it had. */
export async function extractPlugin(r: Resolved, dest: string, scratch: string, opts: FetchOptions): Promise<string> {
  try {
    let fetchSpec = r.fetchSpec;
    let integrity = r.integrity;
    if (r.source === 'directory') {
      // pacote packs folders only with Arborist; npm pack does the same packing (files, .npmignore).
      const packed = await packFolder(r.resolved, scratch, opts.allowScripts);
      fetchSpec = `file:${packed.file}`;
      integrity = packed.integrity;
    }
    const out = await pacote.extract(fetchSpec, dest, { ...pacoteOptions(opts), ...(integrity ? { integrity } : {}) } as pacote.Options);
    return out.integrity ?? integrity ?? '';
  } catch (err) {
    throw fetchError(err, describeSpec(r.spec), r.resolved);
  }
}

/** The newest version of `name` in the registry that is made for this cedana, for list and update. */
export async function latestInRegistry(name: string, opts: FetchOptions): Promise<string> {
  try {
    return await newestCompatible(name, '*', opts);
  } catch (err) {
    throw fetchError(err, name, `registry ${opts.registry}`);
  }
}

/**
 * The newest version of `name` that `range` (a semver range or a dist-tag) allows and that
 * is made for this host (its `cedana` field passes the install checks), not simply `latest`.
 * None of the allowed ones fits: CEDANA_ERR_PLUGIN_ENGINE naming the versions that would.
 */
async function newestCompatible(name: string, range: string, opts: FetchOptions): Promise<string> {
  const packument = (await pacote.packument(name, pacoteOptions(opts))) as unknown as {
    versions: Record<string, PackageJson & { version: string }>;
    'dist-tags'?: Record<string, string>;
  };
  const tag = semver.validRange(range) ? undefined : packument['dist-tags']?.[range];
  const wanted = tag ?? (range === 'latest' ? '*' : range);
  const all = Object.values(packument.versions).sort((a, b) => semver.rcompare(a.version, b.version));
  const fits = (m: PackageJson) => {
    try {
      checkPluginPackage(m);
      return true;
    } catch {
      return false;
    }
  };
  const allowed = all.filter((m) => semver.satisfies(m.version, wanted, { includePrerelease: wanted !== '*' }));
  const chosen = allowed.find(fits);
  if (chosen) return chosen.version;
  const newest = allowed[0];
  if (!newest) return wanted; // pacote says which versions there are
  if (typeof newest.cedana?.engines !== 'string') return newest.version; // not a plugin: the install's manifest check says so
  const fitting = all.filter(fits).map((m) => m.version);
  throw new CedanaError(
    'CEDANA_ERR_PLUGIN_ENGINE',
    `${name}@${newest.version} works with cedana ${newest.cedana.engines}, this is cedana ${HOST_VERSION}; ${
      fitting.length > 0 ? `versions made for this cedana: ${fitting.join(', ')}` : 'no version of it is made for this cedana'
    }`,
    {
      hint: fitting[0]
        ? `install one of those: \`cedana plugin install ${name}@${fitting[0]}\``
        : `upgrade cedana, or ask the author of ${name} for a version made for cedana ${HOST_VERSION}`,
    },
  );
}

function pacoteOptions(opts: FetchOptions): pacote.Options {
  return {
    ...(opts.registry ? { registry: opts.registry } : {}),
    fullMetadata: true, // the `cedana` field is not in the abbreviated metadata
    ignoreScripts: !opts.allowScripts,
    timeout: opts.timeoutMs,
    fetchRetries: 1,
    fetchRetryMintimeout: 500,
    fetchRetryMaxtimeout: 2000,
  } as pacote.Options;
}

function notInCatalog(spec: Extract<PluginSpec, { kind: 'registry' }>, catalog: Catalog): CedanaError {
  const names = [...new Set(catalog.entries.map((e) => `${e.plugin} (${e.name})`))];
  const versions = catalog.entries.filter((e) => e.name === spec.name).map((e) => e.version);
  const what =
    versions.length > 0
      ? `no version of ${spec.name} in the local catalog matches ${spec.range} (it has ${versions.join(', ')})`
      : `${spec.name} is not in the local catalog${catalog.problem ? `: ${catalog.problem}` : ` (it holds ${names.join(', ') || 'nothing'})`}`;
  return new CedanaError('CEDANA_ERR_PLUGIN_NOT_FOUND', what, {
    hint: 'without a registry only the first-party plugins of the catalog can be installed: give --registry URL (or set plugins.registry) for others',
  });
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ESOCKETTIMEDOUT',
  'ERR_SOCKET_TIMEOUT',
]);

/** pacote's errors as CedanaErrors with a code a script can test. */
export function fetchError(err: unknown, what: string, where: string): CedanaError {
  if (err instanceof CedanaError) return err;
  const e = err as Error & { code?: string; type?: string; statusCode?: number };
  const message = e.message ?? String(err);
  if (e.code === 'EINTEGRITY') {
    return new CedanaError('CEDANA_ERR_PLUGIN_INTEGRITY', `${what} from ${where} failed its integrity check: ${message}`, { cause: err });
  }
  if (e.code === 'E404' || e.code === 'ETARGET' || e.code === 'ENOVERSIONS') {
    return new CedanaError('CEDANA_ERR_PLUGIN_NOT_FOUND', `${what} is not in ${where}: ${message}`, { cause: err });
  }
  if (e.code === 'ENOENT') return new CedanaError('CEDANA_ERR_PLUGIN_NOT_FOUND', `${what}: no such file or folder`, { cause: err });
  if (UNREACHABLE.has(e.code ?? '') || e.type === 'request-timeout' || e.type === 'body-timeout' || /timed? ?out/i.test(message)) {
    return new CedanaError('CEDANA_ERR_REGISTRY_UNREACHABLE', `cannot fetch ${what} from ${where}: ${message}`, { cause: err });
  }
  if (e.code?.startsWith('TAR_') || /zlib|unexpected end of file|incorrect header check/i.test(message)) {
    return new CedanaError('CEDANA_ERR_PLUGIN_INSTALL', `${what} is not a valid npm package tarball: ${message}`, {
      hint: 'give a .tgz made by `npm pack` (or `pnpm pack`), a folder with a package.json, or a registry package',
      cause: err,
    });
  }
  return new CedanaError('CEDANA_ERR_PLUGIN_INSTALL', `cannot fetch ${what} from ${where}: ${message}`, { cause: err });
}
