/**
 * Reads the small images inspect needs out of a checkpoint folder or archive, never
 * pages-*.img: a folder's are read by name; an archive is decoded as a stream, keeping
 * only the entries wanted, and stops as soon as every one that checkpoint.json lists
 * has been seen.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CedanaError } from '@cedana/core';
import { Parser, type ReadEntry } from 'tar';
import { sourceError } from '../archive-errors.js';
import { CODECS } from '../codecs.js';

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
  const source = `the checkpoint archive ${path}`;
  const pending = opts.files === undefined ? undefined : new Set(opts.files.filter(isSummaryImage));
  const images = new Map<string, Buffer>();
  const done = new AbortController();
  let problem: Error | undefined;
  /** The wanted entry being read, until its end. */
  let reading: string | undefined;
  const parser = new Parser({ strict: true });
  parser.on('error', (err: Error) => {
    problem ??= new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${source} is truncated or damaged: ${err.message}`);
  });
  parser.on('entry', (entry: ReadEntry) => {
    const name = entry.path.replace(/^\.\//, '');
    if (entry.type !== 'File' || !isSummaryImage(name)) return entry.resume();
    if (entry.size > MAX_IMAGE_BYTES) {
      problem ??= tooLarge(name, path, entry.size);
      return entry.resume();
    }
    const chunks: Buffer[] = [];
    reading = name;
    entry.on('data', (chunk: Buffer) => chunks.push(chunk));
    entry.on('end', () => {
      reading = undefined;
      images.set(name, Buffer.concat(chunks));
      pending?.delete(name);
      if (pending?.size === 0) done.abort();
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
      if (reading !== undefined) problem ??= new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${source} is truncated inside ${reading}`);
      callback(problem);
    },
  });
  if (pending?.size === 0) return images;
  try {
    await pipeline([createReadStream(path), ...CODECS[format].decoders(source), sink], { signal: done.signal });
  } catch (err) {
    if (!done.signal.aborted) throw problem ?? sourceError(err, path);
  }
  if (problem) throw problem;
  if (pending !== undefined && pending.size > 0) {
    throw new CedanaError(
      'CEDANA_ERR_CHECKPOINT_INVALID',
      `${source} ends before ${[...pending].sort().join(', ')}, which its checkpoint.json lists`,
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
