/**
 * Sizes of checkpoints: a folder's total (files only, links not followed) and the
 * size of the tar stream packCheckpoint makes of it, which drives its progress.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sourceError } from './archive-errors.js';

const TAR_BLOCK = 512;
/** Longer entry names get a pax header (two more blocks) in node-tar's output. */
const USTAR_NAME_MAX = 99;

export interface FolderScan {
  /** Sum of the regular files' sizes. */
  bytes: number;
  /** Size of the uncompressed tar stream of the folder (node-tar, end marker included). */
  tarBytes: number;
}

export async function scanFolder(dir: string): Promise<FolderScan> {
  const scan: FolderScan = { bytes: 0, tarBytes: 2 * TAR_BLOCK };
  await scanInto(dir, '', scan);
  return scan;
}

async function scanInto(dir: string, prefix: string, scan: FolderScan): Promise<void> {
  const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory()) {
        scan.tarBytes += tarEntryBytes(name, 0);
        return scanInto(join(dir, entry.name), `${name}/`, scan);
      }
      const size = entry.isFile() ? (await lstat(join(dir, entry.name))).size : 0;
      scan.bytes += size;
      scan.tarBytes += tarEntryBytes(name, size);
    }),
  );
}

/** Bytes of one entry of `size` content bytes in the tar stream. */
export function tarEntryBytes(name: string, size: number): number {
  return TAR_BLOCK + (name.length > USTAR_NAME_MAX ? 2 * TAR_BLOCK : 0) + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

/** Bytes a checkpoint takes: an archive's file size, or a folder's total (see scanFolder). */
export async function checkpointSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? (await scanFolder(path)).bytes : info.size;
  } catch (err) {
    throw sourceError(err, path);
  }
}
