/**
 * checkpoint.json: what a checkpoint holds and how to trust it. Written after the
 * dump with the size and sha256 of every file; restore verifies it before it
 * touches anything, and names the first bad file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { hostname, release } from 'node:os';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CedanaError, HOST_VERSION, type ManifestFacts } from '@cedana/core';

export const MANIFEST_FILE = 'checkpoint.json';
/** Bumped when the layout changes incompatibly; restore refuses other formats. */
export const MANIFEST_FORMAT = 1;

export interface FileDigest {
  size: number;
  sha256: string;
}

export interface CheckpointManifest extends ManifestFacts {
  format: number;
  createdAt: string;
  host: { cedana: string; node: string; kernel: string; hostname: string };
  files: Record<string, FileDigest>;
}

/** Hashes every file of `dir` and writes checkpoint.json with `facts`. */
export async function writeManifest(dir: string, facts: ManifestFacts): Promise<CheckpointManifest> {
  const names = (await listFiles(dir)).filter((n) => n !== MANIFEST_FILE);
  const files: Record<string, FileDigest> = {};
  await forEachLimited(names, 2, async (name) => {
    files[name] = await digest(join(dir, name));
  });
  const manifest: CheckpointManifest = {
    ...facts,
    format: MANIFEST_FORMAT,
    createdAt: new Date().toISOString(),
    host: { cedana: HOST_VERSION, node: process.version, kernel: release(), hostname: hostname() },
    files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b))),
  };
  const tmp = join(dir, `.${MANIFEST_FILE}.tmp`);
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, join(dir, MANIFEST_FILE));
  return manifest;
}

export async function readManifest(dir: string): Promise<CheckpointManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${dir} is not a cedana checkpoint: it has no ${MANIFEST_FILE}`);
  }
  let m: CheckpointManifest;
  try {
    m = JSON.parse(text) as CheckpointManifest;
  } catch (err) {
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${join(dir, MANIFEST_FILE)} is not valid JSON: ${(err as Error).message}`);
  }
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
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${join(dir, MANIFEST_FILE)} lists no files`);
  }
  return m;
}

/** Reads checkpoint.json and checks every file it lists; throws naming the first bad file. */
export async function verifyManifest(dir: string): Promise<CheckpointManifest> {
  const m = await readManifest(dir);
  await forEachLimited(Object.entries(m.files), 2, async ([name, want]) => {
    const path = join(dir, name);
    const got = await stat(path).catch(() => undefined);
    if (!got) throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `checkpoint file ${name} is missing from ${dir}`);
    if (got.size !== want.size) {
      throw new CedanaError(
        'CEDANA_ERR_CHECKPOINT_INVALID',
        `checkpoint file ${name} has ${got.size} bytes, expected ${want.size}: it was truncated or changed`,
      );
    }
    const { sha256 } = await digest(path);
    if (sha256 !== want.sha256) {
      throw new CedanaError(
        'CEDANA_ERR_CHECKPOINT_INVALID',
        `checkpoint file ${name} does not match its sha256 in ${MANIFEST_FILE}: it was changed or corrupted`,
      );
    }
  });
  return m;
}

async function digest(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      size += chunk.length;
      hash.update(chunk);
    }
  });
  return { size, sha256: hash.digest('hex') };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < items.length) {
      const item = items[i++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
