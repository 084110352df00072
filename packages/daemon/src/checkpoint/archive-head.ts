/**
 * The head of an archive: the tar entry of checkpoint.json, which packCheckpoint writes
 * first. Either the folder's own checkpoint.json, or one made from `facts` and the
 * digests of the files as they are packed. Its length is known before packing starts
 * (sizes come from the folder, a sha256 is always 64 hex digits, an xxh64 16, createdAt is fixed
 * now), so its place at the front of the archive can be reserved and filled last.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError } from '@cedana/core';
import {
  buildManifest,
  type CheckpointManifest,
  type FileDigest,
  listFiles,
  MANIFEST_FILE,
  type ManifestDraft,
  manifestText,
} from './manifest.js';
import { PIECE_BYTES } from './piece-digests.js';
import { PRIVATE_FILE_MODE } from './private-modes.js';
import { fileEntry, type OnFileDigest } from './tar-pack.js';

export interface ArchiveHead {
  /** Length of the plain head (the whole tar entry). */
  length: number;
  /** Where the tar stream reports each file's digest, when the head is made from them. */
  onFile?: OnFileDigest;
  /** The plain head; call once the tar stream of the rest has ended. */
  bytes(): Buffer;
  /** The manifest it holds, when it was made from facts. */
  manifest(): CheckpointManifest | undefined;
}

const PLACEHOLDER_SHA256 = '0'.repeat(64);
const PLACEHOLDER_XXH64 = '0'.repeat(16);
const MANIFEST_MODE = PRIVATE_FILE_MODE;

/** The folder's own checkpoint.json as the head, or no head when it has none. */
export async function existingHead(folder: string): Promise<ArchiveHead> {
  const path = join(folder, MANIFEST_FILE);
  const stats = await lstat(path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
  if (stats === undefined) return { length: 0, bytes: () => Buffer.alloc(0), manifest: () => undefined };
  if (!stats.isFile()) throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${path} is not a regular file`);
  const entry = fileEntry(MANIFEST_FILE, await readFile(path), { mode: stats.mode & 0o7777, mtime: stats.mtime });
  return { length: entry.length, bytes: () => entry, manifest: () => undefined };
}

/**
 * A checkpoint.json of `facts` and the size and sha256 of every file of `folder`, hashed
 * while packed; and of the `pieced` ones their pieces' digests, whose count their size says.
 */
export async function manifestHead(
  folder: string,
  facts: ManifestDraft,
  pieced: (name: string) => boolean = () => false,
): Promise<ArchiveHead> {
  const sizes = await listFiles(folder);
  const createdAt = new Date();
  const draft = (files: Record<string, FileDigest>) => buildManifest(facts, files, createdAt.toISOString());
  const placeholder = (name: string, size: number): FileDigest => {
    if (!pieced(name)) return { size, sha256: PLACEHOLDER_SHA256 };
    const count = Math.max(1, Math.ceil(size / PIECE_BYTES));
    return { size, sha256: PLACEHOLDER_SHA256, pieces: { bytes: PIECE_BYTES, xxh64: Array(count).fill(PLACEHOLDER_XXH64) } };
  };
  const placeholders = Object.fromEntries(Object.entries(sizes).map(([name, size]) => [name, placeholder(name, size)]));
  const length = Buffer.byteLength(manifestText(draft(placeholders)));
  const digests: Record<string, FileDigest> = {};
  let made: { entry: Buffer; manifest: CheckpointManifest } | undefined;
  const make = () => {
    const changed = Object.keys(sizes).find((name) => digests[name]?.size !== sizes[name]);
    if (changed !== undefined || Object.keys(digests).length !== Object.keys(sizes).length) {
      throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${folder} changed while it was packed${changed ? ` (${changed})` : ''}`, {
        hint: 'something wrote into the checkpoint folder during packing: dump again',
      });
    }
    const manifest = draft(digests);
    const text = Buffer.from(manifestText(manifest));
    // Never longer: only the placeholders differ, and a sha256 is always 64 hex digits.
    if (text.length !== length) throw new Error(`checkpoint.json came out ${text.length} bytes long, not the ${length} reserved`);
    return { entry: fileEntry(MANIFEST_FILE, text, { mode: MANIFEST_MODE, mtime: createdAt }), manifest };
  };
  return {
    length: fileEntry(MANIFEST_FILE, Buffer.alloc(length), { mode: MANIFEST_MODE, mtime: createdAt }).length,
    onFile: (name, digest) => {
      digests[name] = digest;
    },
    bytes: () => {
      made ??= make();
      return made.entry;
    },
    manifest: () => made?.manifest,
  };
}
