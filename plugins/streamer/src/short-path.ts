/**
 * CRIU finds the streamer at `<images dir>/streamer-{capture,serve}.sock`, a path that
 * must fit a unix socket's sun_path (108 bytes): CRIU truncates a longer one, and the
 * streamer's bind fails with "File name too long". So both are given a short name for
 * the checkpoint folder: a symlink `/run/cedana/streams/<random>` to it, made for one
 * dump or restore. The socket, the shards and CRIU's log still live in the folder itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the short names live: root's own folder, or the temp folder when /run cannot be written. */
const BASES = ['/run/cedana/streams', join(tmpdir(), 'cedana-streams')];

export interface ShortPath {
  /** The short name of the folder (a symlink to it). */
  path: string;
  release(): Promise<void>;
  /** `err` with the short name replaced by `dir` in its message and details: the link is gone when people read it. */
  named(err: unknown, dir: string): unknown;
}

export async function shortPathTo(dir: string): Promise<ShortPath> {
  let lastError: unknown;
  for (const base of BASES) {
    try {
      await mkdir(base, { recursive: true, mode: 0o700 });
      const path = join(base, randomBytes(6).toString('hex'));
      await symlink(dir, path, 'dir');
      return { path, release: () => rm(path, { force: true }), named: (err, real) => renamed(err, path, real) };
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

function renamed(err: unknown, short: string, real: string): unknown {
  if (!(err instanceof Error)) return err;
  err.message = err.message.replaceAll(short, real);
  const details = (err as { details?: unknown }).details;
  if (Array.isArray(details)) {
    for (let i = 0; i < details.length; i++) if (typeof details[i] === 'string') details[i] = details[i].replaceAll(short, real);
  }
  return err;
}
