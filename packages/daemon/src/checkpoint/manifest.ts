/**
 * checkpoint.json: what a checkpoint holds and how to trust it. Written after the
 * dump with the size and sha256 of every file (by writeManifest for a folder, or by
 * packCheckpoint as it packs); restore verifies it before it touches anything, and
 * names the first bad file.
 */
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { hostname, release } from 'node:os';
import { join, relative } from 'node:path';
import { CedanaError, HOST_VERSION, type ManifestFacts } from '@cedana/core';
import type { FileDigest } from './file-digest.js';
import { hashFiles } from './hash-pool.js';

export type { FileDigest } from './file-digest.js';

export const MANIFEST_FILE = 'checkpoint.json';
/** Bumped when the layout changes incompatibly; restore refuses other formats. */
export const MANIFEST_FORMAT = 1;

export interface CheckpointManifest extends ManifestFacts {
  format: number;
  createdAt: string;
  host: { cedana: string; node: string; kernel: string; hostname: string };
  files: Record<string, FileDigest>;
}

/**
 * Hashes every file of `dir` (on the hashing workers) and writes checkpoint.json with
 * `facts`. A plugin that wrote files and hashed them as it wrote (the streamer's shards)
 * leaves their digests in `facts.fileDigests`: those files are not read again when
 * their size still matches. The key itself is not written.
 */
export async function writeManifest(dir: string, facts: ManifestFacts): Promise<CheckpointManifest> {
  const { fileDigests, ...rest } = facts as ManifestFacts & { fileDigests?: Record<string, FileDigest> };
  const sizes = await listFiles(dir);
  const known = Object.entries(fileDigests ?? {}).filter(([name, d]) => sizes[name] === d.size);
  const toHash = Object.fromEntries(Object.entries(sizes).filter(([name]) => !known.some(([k]) => k === name)));
  const files = { ...(await hashFiles(dir, toHash)), ...Object.fromEntries(known) };
  const manifest = buildManifest(rest, files, new Date().toISOString());
  const tmp = join(dir, `.${MANIFEST_FILE}.tmp`);
  await writeFile(tmp, manifestText(manifest));
  await rename(tmp, join(dir, MANIFEST_FILE));
  return manifest;
}

export function buildManifest(facts: ManifestFacts, files: Record<string, FileDigest>, createdAt: string): CheckpointManifest {
  return {
    ...facts,
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
  let m: CheckpointManifest;
  try {
    m = JSON.parse(text) as CheckpointManifest;
  } catch (err) {
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof m !== 'object' || m === null) throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${where} holds no JSON object`);
  if (m.format !== MANIFEST_FORMAT) {
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_INVALID',
      `checkpoint format ${m.format} (made by cedana ${m.host?.cedana ?? '?'}) is not format ${MANIFEST_FORMAT} of this cedana ${HOST_VERSION}`,
      {
        hint: 'restore it with the cedana version that made it',
      },
    );
  }
  if (typeof m.files !== 'object' || m.files === null) {
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${where} lists no files`);
  }
  return m;
}

/** Reads checkpoint.json and checks every file it lists; throws naming the first bad file. */
export async function verifyManifest(dir: string): Promise<CheckpointManifest> {
  const m = await readManifest(dir);
  const listed = Object.entries(m.files);
  // Sizes first: a missing or truncated file is refused before anything is hashed.
  for (const [name, want] of listed) {
    const got = await stat(join(dir, name)).catch(() => undefined);
    if (!got?.isFile()) throw missingFile(name, dir);
    if (got.size !== want.size) throw wrongSize(name, got.size, want.size);
  }
  const digests = await hashFiles(dir, Object.fromEntries(listed.map(([name, want]) => [name, want.size])));
  for (const [name, want] of listed) checkDigest(name, digests[name] as FileDigest, want);
  return m;
}

/** Throws naming `name` unless `got` is what checkpoint.json says of it. */
export function checkDigest(name: string, got: FileDigest, want: FileDigest): void {
  if (got.size !== want.size) throw wrongSize(name, got.size, want.size);
  if (got.sha256 !== want.sha256) {
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_INVALID',
      `checkpoint file ${name} does not match its sha256 in ${MANIFEST_FILE}: it was changed or corrupted`,
    );
  }
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
  const entries = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const names = entries.map((e) => relative(dir, join(e.parentPath, e.name))).filter((name) => name !== MANIFEST_FILE);
  const sizes = await Promise.all(names.map(async (name) => (await stat(join(dir, name))).size));
  return Object.fromEntries(names.map((name, i) => [name, sizes[i] as number]));
}
