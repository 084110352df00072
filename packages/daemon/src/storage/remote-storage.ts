/**
 * Remote checkpoints: a checkpoint path with a URL scheme (`s3://bucket/prefix`) is kept
 * by the plugin whose CheckpointStorage role declares that scheme. The daemon asks by
 * scheme, never by plugin name, so any plugin may store any scheme.
 */
import { CedanaError, type Config, features, firstPartyFor, inPlugin, type PluginSource, type StorageClient } from '@cedana/core';

const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//;

/** Whether `path` names remote storage (a URL) rather than a local folder. */
export function isRemote(path: string): boolean {
  return URL_SCHEME.test(path);
}

/** What finding a storage client takes: the config it is built from and the loaded plugins (a request's context has both). */
export interface StorageEnv {
  config: Config;
  plugins: PluginSource;
}

/** The storage client of the plugin (in the storage role) that stores `url`'s scheme. */
export async function storageFor(url: string, env: StorageEnv): Promise<StorageClient> {
  const scheme = URL_SCHEME.exec(url)?.[1] ?? '';
  const found = features.CheckpointStorage.all(env.plugins).find((s) => s.value.scheme === scheme);
  if (found) return inPlugin(found.plugin, features.CheckpointStorage.symbol, () => found.value.open(env.config));
  const could = firstPartyFor('storage');
  throw new CedanaError('CEDANA_ERR_STORAGE_UNSUPPORTED', `no installed plugin stores ${scheme}:// checkpoints (${url})`, {
    hint: `install a plugin in the storage role whose CheckpointStorage scheme is "${scheme}" (first-party: ${could
      .map((name) => `\`cedana plugin install ${name}\``)
      .join(', ')}; \`cedana features\` lists them), or give a local --dir`,
  });
}
