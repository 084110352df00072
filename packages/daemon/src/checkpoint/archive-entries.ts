/**
 * Reads some entries of a checkpoint archive without unpacking it: the archive is
 * decoded as a stream, only the wanted entries are kept, and reading stops as soon as
 * every entry the caller expects has been seen (checkpoint.json is the first entry;
 * pages-*.img are the last). What callers share: archive-manifest.ts, images/load.ts.
 */
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CedanaError } from '@cedana/core';
import { Parser, type ReadEntry } from 'tar';
import { sourceError } from './archive-errors.js';
import { CODECS } from './codecs.js';

export interface EntryQuery {
  /** Whether the entry `name` (a file of the checkpoint) is kept. */
  wanted(name: string): boolean;
  /** Kept entries larger than this are damage: `tooLarge` says how. */
  maxBytes: number;
  tooLarge(name: string, size: number): Error;
  /** Stop once all of these were read; without it, the whole archive is read. */
  expected?: ReadonlySet<string>;
}

/** The wanted entries of the archive at `path`, by name; an archive cut inside one of them is refused, naming it. */
export async function readArchiveEntries(path: string, format: keyof typeof CODECS, query: EntryQuery): Promise<Map<string, Buffer>> {
  const source = `the checkpoint archive ${path}`;
  const entries = new Map<string, Buffer>();
  const pending = query.expected && new Set(query.expected);
  if (pending?.size === 0) return entries;
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
    if (entry.type !== 'File' || !query.wanted(name)) return entry.resume();
    if (entry.size > query.maxBytes) {
      problem ??= query.tooLarge(name, entry.size);
      return entry.resume();
    }
    const chunks: Buffer[] = [];
    reading = name;
    entry.on('data', (chunk: Buffer) => chunks.push(chunk));
    entry.on('end', () => {
      reading = undefined;
      entries.set(name, Buffer.concat(chunks));
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
  try {
    await pipeline([createReadStream(path), ...CODECS[format].decoders(source), sink], { signal: done.signal });
  } catch (err) {
    if (!done.signal.aborted) throw problem ?? sourceError(err, path);
  }
  if (problem) throw problem;
  return entries;
}
