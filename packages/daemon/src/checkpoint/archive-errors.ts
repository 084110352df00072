/**
 * Turns what fails while packing or unpacking (fs errno errors, aborts) into
 * CedanaErrors that say which path, what was expected and what to do next.
 */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CedanaError, isCedanaError } from '@cedana/core';

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

export interface WriteFacts {
  /** The archive or folder being written. */
  path: string;
  /** Bytes written before the failure. */
  wrote: number;
  /** Bytes the whole write needs, or an upper bound, when known. */
  needs?: { bytes: number; exact: boolean };
  signal?: AbortSignal | undefined;
}

/** An error met while writing an archive or unpacking into a folder. */
export async function writeError(err: unknown, facts: WriteFacts): Promise<CedanaError> {
  if (facts.signal?.aborted) return cancelled(facts.signal, facts.path);
  if (isCedanaError(err)) return err;
  const errno = err as NodeJS.ErrnoException;
  if (errno.code !== undefined && NO_SPACE.has(errno.code)) {
    const free = await freeBytes(facts.path);
    const needs = facts.needs === undefined ? 'an unknown total' : `${facts.needs.exact ? '' : 'up to '}${bytes(facts.needs.bytes)} in all`;
    const message = `no space left on the device writing ${facts.path}: wrote ${bytes(facts.wrote)} of ${needs}${free === undefined ? '' : `, ${bytes(free)} free there`}`;
    return new CedanaError('CEDANA_ERR_NO_SPACE', message, { cause: err });
  }
  if (errno.code !== undefined && NOT_WRITABLE.has(errno.code)) {
    return new CedanaError('CEDANA_ERR_CHECKPOINT_DIR', `cannot write ${errno.path ?? facts.path}: ${errno.code} (${errno.message})`, {
      cause: err,
    });
  }
  return sourceError(err, facts.path);
}

/** An error met while reading a checkpoint folder or archive. */
export function sourceError(err: unknown, path: string): CedanaError {
  if (isCedanaError(err)) return err;
  const errno = err as NodeJS.ErrnoException;
  if (errno.code === 'ENOENT' && (errno.path === undefined || errno.path === path)) {
    return new CedanaError('CEDANA_ERR_CHECKPOINT_NOT_FOUND', `no checkpoint at ${path}`, { cause: err });
  }
  if (errno.code !== undefined && NOT_WRITABLE.has(errno.code)) {
    const hint = `check the permissions of ${errno.path ?? path}: the daemon runs as uid ${process.getuid?.() ?? '?'}`;
    return new CedanaError('CEDANA_ERR_CHECKPOINT_DIR', `cannot read ${errno.path ?? path}: ${errno.code}`, { cause: err, hint });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CedanaError('CEDANA_ERR_INTERNAL', `failed on the checkpoint ${path}: ${message}`, { cause: err });
}

/** The abort reason when it is a CedanaError (the caller said why), else CEDANA_ERR_CANCELLED. */
export function cancelled(signal: AbortSignal, path: string): CedanaError {
  if (isCedanaError(signal.reason)) return signal.reason;
  const why = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new CedanaError('CEDANA_ERR_CANCELLED', `cancelled while working on ${path}${why}`, { cause: signal.reason });
}

/** Free bytes on the filesystem of `path`, or of its parent when `path` is gone. */
async function freeBytes(path: string): Promise<number | undefined> {
  for (const candidate of [path, dirname(path)]) {
    try {
      const fs = await statfs(candidate);
      return fs.bavail * fs.bsize;
    } catch {}
  }
  return undefined;
}

function bytes(n: number): string {
  return n < 1 << 20 ? `${n} bytes` : `${(n / (1 << 20)).toFixed(1)} MiB (${n} bytes)`;
}
