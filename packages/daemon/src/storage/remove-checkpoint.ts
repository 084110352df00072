/** Removes a checkpoint's files: a local folder or archive, or every object under a remote checkpoint's URL. */
import { rm } from 'node:fs/promises';
import { manifestUrl } from './remote-layout.js';
import { isRemote, type StorageEnv, storageFor } from './remote-storage.js';

export async function removeCheckpoint(path: string, env: StorageEnv | undefined): Promise<void> {
  if (!isRemote(path) || env === undefined) {
    await rm(path, { recursive: true, force: true });
    return;
  }
  const client = await storageFor(path, env);
  const objects = (await client.list(path)).map((o) => o.url);
  // checkpoint.json first: what is left after a failure half-way is no checkpoint any more.
  const manifest = manifestUrl(path);
  if (objects.includes(manifest)) await client.remove([manifest]);
  await client.remove(objects.filter((url) => url !== manifest));
}
