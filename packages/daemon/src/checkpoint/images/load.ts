/**
 * Reads the small images inspect needs out of a checkpoint folder or archive, never
 * pages-*.img: a folder's are read by name; an archive is decoded as a stream, keeping
 * only the entries wanted, and stops as soon as every one that checkpoint.json lists
 * has been seen.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError } from '@cedana/core';
import { readArchiveEntries } from '../archive-entries.js';
import { sourceError } from '../archive-errors.js';
import type { CODECS } from '../codecs.js';

/** No image inspect reads comes near this; a larger one is damage, not data. */
export const MAX_IMAGE_BYTES = 64 << 20;

const SUMMARY_IMAGE = /^(?:(?:pstree|files|inventory)\.img|(?:core|ids|fdinfo|mm|pagemap)-\d+\.img)$/;

/** Whether inspect reads the image `name` (a file name in the checkpoint). */
export function isSummaryImage(name: string): boolean {
  return SUMMARY_IMAGE.test(name);
}

/** The images inspect reads, from a checkpoint folder. */
export async function loadImagesFromFolder(dir: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(dir).catch((err: unknown) => Promise.reject(sourceError(err, dir)))).filter(isSummaryImage).sort();
  const images = new Map<string, Buffer>();
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path);
    if (!info.isFile()) continue;
    if (info.size > MAX_IMAGE_BYTES) throw tooLarge(name, dir, info.size);
    images.set(name, await readFile(path));
  }
  return images;
}

export interface ArchiveLoadOptions {
  /** Every file name of the checkpoint (checkpoint.json's `files`): reading stops once all wanted ones were seen. */
  files?: readonly string[];
}

/** The images inspect reads, from a checkpoint archive of compression `format`. */
export async function loadImagesFromArchive(
  path: string,
  format: keyof typeof CODECS,
  opts: ArchiveLoadOptions = {},
): Promise<Map<string, Buffer>> {
  const expected = opts.files === undefined ? undefined : new Set(opts.files.filter(isSummaryImage));
  const images = await readArchiveEntries(path, format, {
    wanted: isSummaryImage,
    maxBytes: MAX_IMAGE_BYTES,
    tooLarge: (name, size) => tooLarge(name, path, size),
    ...(expected ? { expected } : {}),
  });
  const missing = [...(expected ?? [])].filter((name) => !images.has(name)).sort();
  if (missing.length > 0) {
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_INVALID',
      `the checkpoint archive ${path} ends before ${missing.join(', ')}, which its checkpoint.json lists`,
    );
  }
  return images;
}

function tooLarge(name: string, where: string, size: number): CedanaError {
  return new CedanaError(
    'CEDANA_ERR_CHECKPOINT_INVALID',
    `the CRIU image ${name} in ${where} is ${size} bytes, more than the ${MAX_IMAGE_BYTES} an image of its kind can hold: it is damaged`,
  );
}
