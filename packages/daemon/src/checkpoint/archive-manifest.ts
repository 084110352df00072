/**
 * Reads one small JSON file (checkpoint.json) out of a checkpoint archive without
 * unpacking it. packCheckpoint stores checkpoint.json first, so this reads and
 * decodes only the archive's first bytes, then stops.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError } from '@cedana/core';
import { readArchiveEntries } from './archive-entries.js';
import { sourceError } from './archive-errors.js';
import type { CODECS } from './codecs.js';
import { detectFormat } from './format.js';

/** Larger is no manifest. */
const MAX_JSON_BYTES = 16 << 20;

/** The JSON object stored as `name` in the archive (or folder) at `path`. */
export async function readManifestFromArchive(path: string, name: string): Promise<Record<string, unknown>> {
  const format = await detectFormat(path);
  const text =
    format === 'none'
      ? await readFile(join(path, name)).catch((err: unknown) => Promise.reject(sourceError(err, path)))
      : await readEntry(path, format, name);
  let value: unknown;
  try {
    value = JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${name} in ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${name} in ${path} holds no JSON object`);
  }
  return value as Record<string, unknown>;
}

async function readEntry(path: string, format: keyof typeof CODECS, name: string): Promise<Buffer> {
  const entries = await readArchiveEntries(path, format, {
    wanted: (entry) => entry === name,
    maxBytes: MAX_JSON_BYTES,
    tooLarge: (_, size) =>
      new CedanaError(
        'CEDANA_ERR_CHECKPOINT_INVALID',
        `the checkpoint archive ${path} holds a ${name} of ${size} bytes, too large for a manifest`,
      ),
    expected: new Set([name]),
  });
  const body = entries.get(name);
  if (body === undefined) throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `the checkpoint archive ${path} holds no ${name}`);
  return body;
}
