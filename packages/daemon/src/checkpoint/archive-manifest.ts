/**
 * Reads one small JSON file (checkpoint.json) out of a checkpoint archive without
 * unpacking it. packCheckpoint stores checkpoint.json first, so this reads and
 * decodes only the archive's first bytes, then stops.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CedanaError } from '@cedana/core';
import { Parser, type ReadEntry } from 'tar';
import { sourceError } from './archive-errors.js';
import { CODECS } from './codecs.js';
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
  const source = `the checkpoint archive ${path}`;
  const found = new AbortController();
  let body: Buffer | undefined;
  let problem: Error | undefined;
  const parser = new Parser({ strict: true });
  parser.on('error', (err: Error) => {
    problem ??= new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${source} is truncated or damaged: ${err.message}`);
  });
  parser.on('entry', (entry: ReadEntry) => {
    if (entry.path.replace(/^\.\//, '') !== name || entry.type !== 'File') return entry.resume();
    if (entry.size > MAX_JSON_BYTES) {
      problem = new CedanaError(
        'CEDANA_ERR_CHECKPOINT_INVALID',
        `${source} holds a ${name} of ${entry.size} bytes, too large for a manifest`,
      );
      return entry.resume();
    }
    const chunks: Buffer[] = [];
    entry.on('data', (chunk: Buffer) => chunks.push(chunk));
    entry.on('end', () => {
      body = Buffer.concat(chunks);
      found.abort();
    });
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (problem) return callback(problem);
      if (parser.write(chunk)) callback();
      else parser.once('drain', () => callback());
    },
    final(callback) {
      parser.end();
      callback(problem);
    },
  });
  try {
    await pipeline([createReadStream(path), ...CODECS[format].decoders(source), sink], { signal: found.signal });
  } catch (err) {
    if (body === undefined) throw problem ?? sourceError(err, path);
  }
  if (body === undefined) throw problem ?? new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${source} holds no ${name}`);
  return body;
}
