/**
 * How a checkpoint lies in remote storage, under its URL `DIR/NAME`:
 *   DIR/NAME/images.tar.zst   an archive (tar, lz4, zstd...), byte for byte what a local dump
 *                             writes, checkpoint.json first inside it; or, for a folder
 *                             checkpoint (compression none, streams), one object per file;
 *   DIR/NAME/checkpoint.json  written last: objects without it are never a checkpoint.
 */
import { CODECS } from '../checkpoint/codecs.js';
import { MANIFEST_FILE } from '../checkpoint/manifest.js';

export const ARCHIVE_OBJECT = 'images';

export function checkpointUrl(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${name}`;
}

export function objectUrl(checkpoint: string, name: string): string {
  return `${checkpoint}/${name}`;
}

export function manifestUrl(checkpoint: string): string {
  return objectUrl(checkpoint, MANIFEST_FILE);
}

/** The archive's object name for a compression (`images.tar.zst`). */
export function archiveObject(compression: keyof typeof CODECS): string {
  return `${ARCHIVE_OBJECT}${CODECS[compression].extension}`;
}
