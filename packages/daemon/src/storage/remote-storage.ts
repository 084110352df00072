/**
 * Remote checkpoints: a checkpoint path with a URL scheme (`s3://bucket/prefix`) is kept
 * by the plugin whose CheckpointStorage role declares that scheme. The daemon asks by
 * scheme, never by plugin name, so any plugin may store any scheme.
 */
import { CedanaError, type Config, features, type StorageClient } from '@cedana/core';

const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//;

/** Whether `path` names remote storage (a URL) rather than a local folder. */
export function isRemote(path: string): boolean {
  return URL_SCHEME.test(path);
}

/** The storage client of the plugin that stores `url`'s scheme. */
export async function storageFor(url: string, config: Config): Promise<StorageClient> {
  const scheme = URL_SCHEME.exec(url)?.[1] ?? '';
  let found: StorageClient | undefined;
  await features.CheckpointStorage.ifAvailable((_plugin, storage) => {
    if (storage.scheme === scheme && found === undefined) found = storage.open(config);
  });
  if (found) return found;
  throw new CedanaError('CEDANA_ERR_STORAGE_UNSUPPORTED', `no installed plugin stores ${scheme}:// checkpoints (${url})`, {
    hint:
      scheme === 's3'
        ? 'install it with `cedana plugin install storage-s3`, or give a local --dir'
        : `install a plugin whose CheckpointStorage scheme is "${scheme}" (\`cedana features\` lists them), or give a local --dir`,
  });
}
