/**
 * Where plugins come from for install, update and list: the registry (--registry, or
 * config plugins.registry) or, when none is set, the local catalog; and the latest
 * version a package has there. The registry client (pacote) is imported only when a
 * registry is asked, so `plugin list` from the catalog starts without it.
 */
import { CedanaError, type Config, isCedanaError } from '@cedana/core';
import { type Catalog, catalogDir, latestInCatalog, readCatalog } from './catalog.js';
import type { FetchOptions } from './fetch.js';
import type { LatestOf } from './status.js';

export interface SourceArgs {
  registry?: string;
  fetchTimeout?: number;
  allowScripts?: boolean;
}

export async function fetchOptionsOf(config: Config, argv: SourceArgs): Promise<FetchOptions> {
  const registry = (argv.registry ?? config['plugins.registry']).replace(/\/+$/, '');
  if (registry && !/^https?:\/\//.test(registry)) {
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `registry "${registry}" is not an http(s) URL`, {
      hint: 'give it as --registry http://HOST:PORT (or set plugins.registry)',
    });
  }
  const seconds = argv.fetchTimeout ?? 60;
  if (!(seconds > 0)) throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `--fetch-timeout must be more than 0 seconds, found ${seconds}`);
  const catalog: Catalog = registry ? { dir: '', entries: [] } : await readCatalog(catalogDir(config['plugins.catalog']));
  return { registry, catalog, timeoutMs: seconds * 1000, allowScripts: argv.allowScripts ?? false };
}

export function latestOf(opts: FetchOptions, onError?: (name: string, err: Error) => void): LatestOf {
  return async (name) => {
    if (!opts.registry) return latestInCatalog(opts.catalog, name);
    try {
      return await (await import('./fetch.js')).latestInRegistry(name, opts);
    } catch (err) {
      if (!isCedanaError(err) || err.code !== 'CEDANA_ERR_PLUGIN_NOT_FOUND') onError?.(name, err as Error);
      return undefined;
    }
  };
}
