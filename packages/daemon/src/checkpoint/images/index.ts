/**
 * `cedana checkpoint inspect`: what a checkpoint holds, decoded from CRIU's small images.
 *
 * - summarizeImages(images, { source }) decodes a map of image name -> bytes; it is all a
 *   streamed checkpoint needs: hand it the small images (those isSummaryImage accepts).
 * - summarizeCheckpoint(path) finds them in a folder or an archive first (load.ts).
 */
import type { Compression } from '@cedana/core';
import type { CheckpointSummary } from '@cedana/core/proto';
import { detectFormat } from '../format.js';
import { isSummaryImage, loadImagesFromArchive, loadImagesFromFolder } from './load.js';
import { summarizeImages } from './summarize.js';

export { isSummaryImage, loadImagesFromArchive, loadImagesFromFolder, MAX_IMAGE_BYTES } from './load.js';
export { type SummarizeOptions, summarizeImages } from './summarize.js';

/** Reads the images that `wanted` accepts out of a checkpoint at `path` that is neither a folder nor an archive (a streamed one). */
export type ImageReader = (path: string, wanted: (name: string) => boolean) => Promise<Map<string, Buffer>>;

export interface SummarizeCheckpointOptions {
  /** Every file of the checkpoint (checkpoint.json's `files`), so that reading an archive stops early. */
  files?: readonly string[];
  /** Reads the images when the checkpoint is streamed; folders and archives need none. */
  readImages?: ImageReader;
}

/** The summary of the checkpoint folder or archive at `path`. */
export async function summarizeCheckpoint(path: string, opts: SummarizeCheckpointOptions = {}): Promise<CheckpointSummary> {
  return summarizeImages(await loadCheckpointImages(path, opts), { source: path });
}

/** The small images of the checkpoint at `path`: through `opts.readImages` when given, else from the folder or archive. */
export async function loadCheckpointImages(path: string, opts: SummarizeCheckpointOptions = {}): Promise<Map<string, Buffer>> {
  if (opts.readImages) return opts.readImages(path, isSummaryImage);
  const format: Compression = await detectFormat(path);
  if (format === 'none') return loadImagesFromFolder(path);
  return loadImagesFromArchive(path, format, opts.files ? { files: opts.files } : {});
}
