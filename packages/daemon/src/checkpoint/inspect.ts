/**
 * `cedana checkpoint inspect`: a checkpoint's checkpoint.json and what its CRIU images
 * hold (images/), also from inside an archive, without unpacking the pages.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { features, inPlugin, type PluginSource, pluginSource } from '@cedana/core';
import type { CheckpointSummary } from '@cedana/core/proto';
import { streamsOf } from '../pipelines/stream-adapters.js';
import { requireRole } from '../plugins/resolver.js';
import { readManifestFromArchive } from './archive-manifest.js';
import { type ImageReader, loadCheckpointImages, type SummarizeCheckpointOptions, summarizeImages } from './images/index.js';
import { MANIFEST_FILE, readManifest } from './manifest.js';

export async function readCheckpointManifest(path: string): Promise<Record<string, unknown>> {
  const info = await stat(path);
  if (info.isDirectory()) return { ...(await readManifest(path)) };
  return readManifestFromArchive(path, MANIFEST_FILE).catch(() => ({ error: `cannot read ${join(path, MANIFEST_FILE)}` }));
}

export interface CheckpointContents {
  manifest: Record<string, unknown>;
  /** Undefined when the checkpoint holds no CRIU process tree (no pstree.img). */
  summary: CheckpointSummary | undefined;
}

/**
 * checkpoint.json and the summary of the images of the checkpoint at `path`. A damaged
 * image is CEDANA_ERR_CHECKPOINT_INVALID naming it. `opts.readImages` reads a streamed
 * checkpoint's images; else the ImageReader of the plugin in the streams role among `opts.plugins`.
 */
export async function inspectCheckpointPath(
  path: string,
  opts: Pick<SummarizeCheckpointOptions, 'readImages'> & { plugins?: PluginSource } = {},
): Promise<CheckpointContents> {
  const manifest = await readCheckpointManifest(path);
  const files = typeof manifest.files === 'object' && manifest.files !== null ? Object.keys(manifest.files) : undefined;
  const readImages = opts.readImages ?? streamedImageReader(opts.plugins ?? pluginSource([]), manifest);
  const images = await loadCheckpointImages(path, { ...(readImages ? { readImages } : {}), ...(files ? { files } : {}) });
  return { manifest, summary: images.has('pstree.img') ? summarizeImages(images, { source: path }) : undefined };
}

/** A streamed checkpoint's images are read by the plugin in the streams role (its ImageReader); other checkpoints need no reader. */
function streamedImageReader(plugins: PluginSource, manifest: Record<string, unknown>): ImageReader | undefined {
  if (!streamsOf(plugins, manifest)) return undefined;
  const streamer = requireRole(plugins, 'streams', 'inspecting a checkpoint written as streams');
  const read = features.ImageReader.get(plugins, streamer.name);
  return read && ((dir, wanted) => inPlugin(streamer.name, features.ImageReader.symbol, () => read(dir, wanted)));
}
