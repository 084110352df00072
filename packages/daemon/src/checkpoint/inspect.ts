/** Reads a checkpoint's checkpoint.json, also from inside an archive, without unpacking the images. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifestFromArchive } from './archive-manifest.js';
import { MANIFEST_FILE, readManifest } from './manifest.js';

export async function readCheckpointManifest(path: string): Promise<Record<string, unknown>> {
  const info = await stat(path);
  if (info.isDirectory()) return { ...(await readManifest(path)) };
  return readManifestFromArchive(path, MANIFEST_FILE).catch(() => ({ error: `cannot read ${join(path, MANIFEST_FILE)}` }));
}
