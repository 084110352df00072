/**
 * `cedana checkpoint inspect`: a checkpoint's checkpoint.json and what its CRIU images
 * hold (images/), also from inside an archive, without unpacking the pages.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { features } from '@cedana/core';
import type { CheckpointSummary } from '@cedana/core/proto';
import { STREAMER_PLUGIN, streamsOf } from '../pipelines/stream-adapters.js';
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
 * checkpoint's images.
 */
export async function inspectCheckpointPath(
  path: string,
  opts: Pick<SummarizeCheckpointOptions, 'readImages'> = {},
): Promise<CheckpointContents> {
  const manifest = await readCheckpointManifest(path);
  const files = typeof manifest.files === 'object' && manifest.files !== null ? Object.keys(manifest.files) : undefined;
  const readImages = opts.readImages ?? (await streamedImageReader(manifest));
  const images = await loadCheckpointImages(path, { ...(readImages ? { readImages } : {}), ...(files ? { files } : {}) });
  return { manifest, summary: images.has('pstree.img') ? summarizeImages(images, { source: path }) : undefined };
}

/** A streamed checkpoint's images are read by the streamer plugin (its ImageReader); other checkpoints need no reader. */
async function streamedImageReader(manifest: Record<string, unknown>): Promise<ImageReader | undefined> {
  if (!streamsOf(manifest)) return undefined;
  let reader: ImageReader | undefined;
  await features.ImageReader.ifAvailable((_, read) => {
    reader = read;
  }, STREAMER_PLUGIN);
  return reader;
}
