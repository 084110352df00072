/**
 * `cedana checkpoint inspect` of a remote checkpoint: its checkpoint.json, read from the
 * storage. The process tree summary needs the images, which stay in the bucket: it is
 * left out (restore or download the checkpoint to see it).
 */
import type { CheckpointContents } from '../checkpoint/inspect.js';
import { readRemoteManifest } from './remote-fetch.js';
import { type StorageEnv, storageFor } from './remote-storage.js';

export async function inspectRemoteCheckpoint(url: string, env: StorageEnv): Promise<CheckpointContents> {
  const client = await storageFor(url, env);
  const manifest = await readRemoteManifest(client, url);
  return { manifest: manifest as unknown as Record<string, unknown>, summary: undefined };
}
