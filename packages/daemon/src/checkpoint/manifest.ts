/**
 * checkpoint.json: what a checkpoint holds and how to trust it. Written after the
 * dump with the size and sha256 of every file (by writeManifest for a folder, or by
 * packCheckpoint as it packs); restore verifies it before it touches anything, and
 * names the first bad file.
 */
import { lstat, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname, release } from 'node:os';
import { join, posix, relative } from 'node:path';
import {
  CedanaError,
  type CheckpointManifest,
  escapeOf,
  fromFormat1,
  HOST_VERSION,
  MANIFEST_FORMAT,
  type ManifestFacts,
} from '@cedana/core';
import type { FileDigest } from './file-digest.js';
import { hashFiles } from './hash-pool.js';
import { helperPath } from './native-codec.js';
import { firstBadPiece, isPagesImage, type PieceSpec } from './piece-digests.js';
import { PRIVATE_FILE_MODE } from './private-modes.js';

export type { CheckpointManifest } from '@cedana/core';
export type { FileDigest } from './file-digest.js';
export { MANIFEST_FORMAT };

export const MANIFEST_FILE = 'checkpoint.json';
/** The formats restore reads: this one, and format 1 (upgraded by fromFormat1 as it is read). */
const READABLE_FORMATS = [1, MANIFEST_FORMAT];
/**
 * What a restore writes into a folder checkpoint it restores in place (CRIU's log and
 * figures): not part of the checkpoint, never read as images, and not refused as unlisted.
 */
export const RESTORE_OUTPUTS: readonly string[] = ['restore.log', 'stats-restore'];

/** What a dump hands writeManifest: the facts, and the digests of files a plugin hashed as it wrote them. */
export type ManifestDraft = ManifestFacts & { fileDigests?: Record<string, FileDigest> };

/**
 * Hashes every file of `dir` (on the hashing workers) and writes checkpoint.json with
 * `facts`. A plugin that wrote files and hashed them as it wrote (the streamer's shards)
 * leaves their digests in `facts.fileDigests`: those files are not read again when
 * their size still matches. The key itself is not written.
 */
export async function writeManifest(dir: string, facts: ManifestDraft): Promise<CheckpointManifest> {
  const { fileDigests, ...rest } = facts;
  const sizes = await listFiles(dir);
  const known = Object.entries(fileDigests ?? {}).filter(([name, d]) => sizes[name] === d.size);
  const toHash = Object.fromEntries(Object.entries(sizes).filter(([name]) => !known.some(([k]) => k === name)));
  const addon = await helperPath();
  const piecesOf = (name: string): PieceSpec | undefined => (addon && isPagesImage(name) ? { addon, sha256: true } : undefined);
  const files = { ...(await hashFiles(dir, toHash, piecesOf)), ...Object.fromEntries(known) };
  const manifest = buildManifest(rest, files, new Date().toISOString());
  const tmp = join(dir, `.${MANIFEST_FILE}.tmp`);
  await writeFile(tmp, manifestText(manifest), { mode: PRIVATE_FILE_MODE });
  await rename(tmp, join(dir, MANIFEST_FILE));
  return manifest;
}

export function buildManifest(facts: ManifestFacts, files: Record<string, FileDigest>, createdAt: string): CheckpointManifest {
  return {
    ...facts,
    sections: facts.sections ?? {},
    format: MANIFEST_FORMAT,
    createdAt,
    host: { cedana: HOST_VERSION, node: process.version, kernel: release(), hostname: hostname() },
    files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** checkpoint.json's text. */
export function manifestText(manifest: CheckpointManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export async function readManifest(dir: string): Promise<CheckpointManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${dir} is not a cedana checkpoint: it has no ${MANIFEST_FILE}`);
  }
  return parseManifest(text, join(dir, MANIFEST_FILE));
}

/** The manifest in `text`, read from `where` (named in errors), if this cedana can restore it. */
export function parseManifest(text: string, where: string): CheckpointManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null) throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${where} holds no JSON object`);
  const raw = json as Partial<CheckpointManifest>;
  if (!READABLE_FORMATS.includes(raw.format as number)) {
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_INVALID',
      `checkpoint format ${raw.format} (made by cedana ${raw.host?.cedana ?? '?'}) is not one this cedana ${HOST_VERSION} reads (formats ${READABLE_FORMATS.join(', ')})`,
      {
        hint: 'restore it with the cedana version that made it',
      },
    );
  }
  const m = (raw.format === 1 ? fromFormat1(raw) : raw) as CheckpointManifest;
  if (typeof m.sections !== 'object' || m.sections === null) m.sections = {};
  if (typeof m.files !== 'object' || m.files === null) {
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${where} lists no files`);
  }
  // Each name is joined to the checkpoint's folder: one that leaves it is refused before any file is opened.
  for (const name of Object.keys(m.files)) {
    const why =
      escapeOf(name) ??
      (posix.normalize(name) !== name || name.endsWith('/') || name === '.' ? 'it is not a plain relative path' : undefined);
    if (why) {
      throw new CedanaError(
        'CEDANA_ERR_CHECKPOINT_INVALID',
        `${where} lists the file ${JSON.stringify(name)}, which is not a path inside the checkpoint (${why}); nothing was read`,
        { hint: 'this checkpoint.json was not written by cedana: restore from another checkpoint' },
      );
    }
  }
  return m;
}

/**
 * Reads checkpoint.json and checks every file it lists (the size of each, the sha256 of
 * each but those checked as they are read); throws naming the first bad file.
 */
export async function verifyManifest(dir: string): Promise<CheckpointManifest> {
  return (await verifyManifestExcept(dir, () => false)).manifest;
}

/**
 * verifyManifest, except that the files `later` picks are checked for their size only:
 * `rest()` hashes them afterwards and throws as verifyManifest would. A lazy restore
 * checks its pages this way, while the restored process already runs.
 */
export async function verifyManifestExcept(
  dir: string,
  later: (name: string) => boolean,
): Promise<{ manifest: CheckpointManifest; rest: () => Promise<void> }> {
  const m = await readManifest(dir);
  const listed = Object.entries(m.files);
  // What is there, without following links: a listed name must be a regular file of the folder itself.
  const present = await scanFolder(dir);
  const extra = [...Object.keys(present.files), ...present.others].filter((name) => !Object.hasOwn(m.files, name));
  if (extra.length > 0) throw unlistedFile(extra.sort()[0] as string, dir, extra.length);
  // Sizes first: a missing or truncated file is refused before anything is hashed.
  for (const [name, want] of listed) {
    const size = present.files[name];
    if (size === undefined) throw missingFile(name, dir);
    if (size !== want.size) throw wrongSize(name, size, want.size);
  }
  // A file checked piece by piece as it is read (FileDigest.chunkDigests) is not hashed here,
  // provided the file holding its digests is itself listed, and so hashed.
  const hashed = listed.filter(([, want]) => !(want.chunkDigests && Object.hasOwn(m.files, want.chunkDigests)));
  const addon = await helperPath();
  // A file with pieces' digests is checked against those alone: ~6x less CPU than its sha256.
  const piecesOf = (name: string): PieceSpec | undefined => (addon && m.files[name]?.pieces ? { addon, sha256: false } : undefined);
  const check = async (files: [string, FileDigest][]) => {
    const digests = await hashFiles(dir, Object.fromEntries(files.map(([name, want]) => [name, want.size])), piecesOf);
    for (const [name, want] of files) checkDigest(name, digests[name] as FileDigest, want);
  };
  await check(hashed.filter(([name]) => !later(name)));
  return { manifest: m, rest: () => check(hashed.filter(([name]) => later(name))) };
}

/** Throws naming `name` unless `got` is what checkpoint.json says of it. */
export function checkDigest(name: string, got: FileDigest, want: FileDigest): void {
  if (got.size !== want.size) throw wrongSize(name, got.size, want.size);
  if (got.sha256 === '' && got.pieces && want.pieces) {
    const at = firstBadPiece(got.pieces, want.pieces);
    if (at === undefined) return;
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_INVALID',
      `checkpoint file ${name} does not match its xxh64 in ${MANIFEST_FILE} at bytes ${at}-${Math.min(at + want.pieces.bytes, want.size) - 1}: it was changed or corrupted`,
    );
  }
  if (got.sha256 !== want.sha256) {
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_INVALID',
      `checkpoint file ${name} does not match its sha256 in ${MANIFEST_FILE}: it was changed or corrupted`,
    );
  }
}

/** A file the checkpoint holds that its checkpoint.json does not list (one of `count`). */
export function unlistedFile(name: string, where: string, count = 1): CedanaError {
  return new CedanaError(
    'CEDANA_ERR_CHECKPOINT_INVALID',
    `checkpoint file ${name} in ${where} is not listed in ${MANIFEST_FILE}${count > 1 ? ` (nor are ${count - 1} more)` : ''}: a checkpoint holds only what its dump wrote`,
    { hint: `remove ${name} if it was added after the dump, or restore from another checkpoint` },
  );
}

/** `where`: the folder, or "the checkpoint archive PATH". */
export function missingFile(name: string, where: string): CedanaError {
  return new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `checkpoint file ${name} is missing from ${where}`);
}

function wrongSize(name: string, got: number, want: number): CedanaError {
  return new CedanaError(
    'CEDANA_ERR_CHECKPOINT_INVALID',
    `checkpoint file ${name} has ${got} bytes, expected ${want}: it was truncated or changed`,
  );
}

/** Every regular file under `dir` but checkpoint.json, by relative path, with its size. */
export async function listFiles(dir: string): Promise<Record<string, number>> {
  return (await scanFolder(dir)).files;
}

/**
 * The regular files under `dir` (links are not followed) with their sizes, and the
 * other entries that are neither folders nor sockets (links, FIFOs, devices): what a
 * restore would find. checkpoint.json and RESTORE_OUTPUTS are left out.
 */
async function scanFolder(dir: string): Promise<{ files: Record<string, number>; others: string[] }> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const named = entries
    .map((e) => ({ e, name: relative(dir, join(e.parentPath, e.name)) }))
    .filter(({ name }) => name !== MANIFEST_FILE && !RESTORE_OUTPUTS.includes(name));
  const regular = named.filter(({ e }) => e.isFile()).map(({ name }) => name);
  const sizes = await Promise.all(regular.map(async (name) => (await lstat(join(dir, name))).size));
  const others = named.filter(({ e }) => !e.isFile() && !e.isDirectory() && !e.isSocket()).map(({ name }) => name);
  return { files: Object.fromEntries(regular.map((name, i) => [name, sizes[i] as number])), others };
}
