/**
 * Extracts a tar stream into a folder, for checkpoint archives only: regular files,
 * folders and links that stay inside the folder. Anything else stops the extraction
 * with CEDANA_ERR_CHECKPOINT_INVALID naming the entry. The `tar` package's Parser
 * reads headers (strict: a bad header checksum or a truncated entry is an error);
 * files are written here, one at a time in archive order, so a failure leaves no
 * write running once `idle()` resolves.
 *
 * Owners, times and extended attributes are not restored: CRIU reads the images only.
 *
 * Given a ManifestCheck, each file is hashed as it is written and checked against
 * checkpoint.json, and the end of the archive waits for the check's verdict.
 */
import { createWriteStream } from 'node:fs';
import { link, mkdir, symlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CedanaError, isCedanaError } from '@cedana/core';
import { Parser, type ReadEntry } from 'tar';
import { StreamHash } from './hash-pool.js';
import type { FileDigest } from './manifest.js';
import { ManifestCheck } from './manifest-check.js';
import type { PieceSpec } from './piece-digests.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-modes.js';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const LINK_TYPES = new Set(['SymbolicLink', 'Link']);
const DEVICE_TYPES = new Set(['CharacterDevice', 'BlockDevice', 'FIFO']);
const TAR_BLOCK = 512;
/** Larger is no manifest. */
const MAX_MANIFEST_BYTES = 16 << 20;
/** Errors that come from where we extract to, not from the archive (ENOENT, EEXIST... mean a bad archive). */
const DESTINATION_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'EMFILE', 'ENFILE', 'ENOMEM']);

export interface EntryFacts {
  path: string;
  type: string;
  linkpath?: string | undefined;
}

/** Why `entry` may not be extracted into a checkpoint folder, or undefined if it may. */
export function refuseEntry(entry: EntryFacts): string | undefined {
  const { path, type } = entry;
  if (path === '') return 'has an empty path';
  if (path.startsWith('/')) return 'has an absolute path';
  if (hasDotDot(path)) return "has a '..' component, which leaves the destination";
  if (DEVICE_TYPES.has(type)) return `is a device or FIFO (${type}), which a checkpoint never holds`;
  if (!FILE_TYPES.has(type) && type !== 'Directory' && !LINK_TYPES.has(type)) return `has the unsupported type ${type}`;
  if (!LINK_TYPES.has(type)) return undefined;
  const kind = type === 'Link' ? 'hard link' : 'symlink';
  const target = entry.linkpath ?? '';
  if (target === '') return `is a ${kind} without a target`;
  if (target.startsWith('/')) return `is a ${kind} to the absolute path ${target}, outside the destination`;
  if (!hasDotDot(target)) return undefined;
  // Symlink targets are relative to the link's folder, hard link targets to the archive root.
  const resolved = posix.normalize(type === 'Link' ? target : posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../')) return `is a ${kind} to ${target}, which points outside the destination`;
  return `is a ${kind} to ${target}: link targets with '..' are refused, as they can escape through other links`;
}

function hasDotDot(path: string): boolean {
  return path.split('/').includes('..');
}

/** Where some files go instead of the folder (image-serve.ts: a page file straight into CRIU's pipe). */
export interface EntryRoute {
  /** Where to write `path`'s contents instead of its file (undefined: its file); awaited before the entry is read. */
  open(path: string): Promise<(Writable & { bytesWritten: number }) | undefined>;
  /** `path` was written whole (to its file or the stream) and, when checked, matched checkpoint.json. */
  done(path: string, routed: boolean): void;
}

export class TarExtractor extends Writable {
  readonly #destDir: string;
  readonly #source: string;
  readonly #parser: Parser;
  /** File operations, run one after the other in archive order. */
  #chain: Promise<void> = Promise.resolve();
  readonly #madeDirs = new Set<string>();
  #head: Buffer | undefined = Buffer.alloc(0);
  #sawEndMarker = false;
  #failed: Error | undefined;
  #onFailure: (() => void) | undefined;
  /** A write waiting for the parser's 'drain'. */
  #waiting: ((err?: Error | null) => void) | undefined;
  readonly #stopFile = new AbortController();
  readonly #check: ManifestCheck | undefined;
  #bytesDone = 0;
  #current: { bytesWritten: number } | undefined;

  readonly #route: EntryRoute | undefined;

  constructor(destDir: string, source: string, check?: ManifestCheck, route?: EntryRoute) {
    super();
    this.#route = route;
    this.#destDir = destDir;
    this.#source = source;
    this.#check = check;
    this.#parser = new Parser({ strict: true });
    this.#parser.on('entry', (entry: ReadEntry) => this.#onEntry(entry));
    this.#parser.on('error', (err: Error) =>
      this.#fail(this.#invalid(`is truncated or damaged: its tar stream is invalid (${err.message})`)),
    );
    this.#parser.on('eof', () => {
      this.#sawEndMarker = true;
    });
    this.#parser.on('drain', () => this.#release());
  }

  /** Bytes of file contents written so far. */
  get bytesWritten(): number {
    return this.#bytesDone + (this.#current?.bytesWritten ?? 0);
  }

  /** Resolves once no file operation runs any more; call it after a failure, before cleaning up. */
  async idle(): Promise<void> {
    await this.#chain.catch(() => {});
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    const data = this.#failed ? undefined : this.#checkHead(chunk);
    if (data === undefined) {
      callback(this.#failed);
      return;
    }
    // Set before writing: the parser's 'drain' releases it, now or later.
    this.#waiting = callback;
    if (this.#parser.write(data) || this.#failed) this.#release();
  }

  /**
   * What to feed the parser once the first 512 bytes proved a tar (the Parser alone
   * would also take, and decompress, gzip or zstd data); undefined while they are
   * still coming, or when they are no tar.
   */
  #checkHead(chunk: Buffer): Buffer | undefined {
    if (this.#head === undefined) return chunk;
    const data = Buffer.concat([this.#head, chunk]);
    if (data.length < TAR_BLOCK) {
      this.#head = data;
      return undefined;
    }
    this.#head = undefined;
    if (data.toString('latin1', 257, 262) === 'ustar') return data;
    this.#fail(this.#invalid('does not hold a tar archive (no ustar header)'));
    return undefined;
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#finish().then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (err || !this.writableFinished) this.#fail(err ?? new Error('extraction stopped'));
    callback(err);
  }

  async #finish(): Promise<void> {
    if (this.#head !== undefined) throw this.#fail(this.#invalid(`is too short to be a tar archive (${this.#head.length} bytes)`));
    // After a failure the parser may never end (the entry being written was destroyed).
    const parsed = new Promise<void>((resolve) => {
      this.#parser.once('end', resolve);
      this.#onFailure = resolve;
      if (this.#failed) resolve();
    });
    this.#parser.end();
    await parsed;
    await this.#chain;
    if (this.#failed) throw this.#failed;
    if (!this.#sawEndMarker) throw this.#fail(this.#invalid('is truncated: the tar stream ends without its end-of-archive marker'));
    try {
      this.#check?.finish();
    } catch (err) {
      throw this.#fail(err as Error);
    }
  }

  #onEntry(entry: ReadEntry): void {
    const refused = refuseEntry({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
    if (refused !== undefined) {
      entry.resume();
      this.#fail(this.#invalid(`holds the entry ${JSON.stringify(entry.path)}, which ${refused}`));
      return;
    }
    // A body-less entry (folder, link) only ends, letting the parser go on, once resumed.
    if (!FILE_TYPES.has(entry.type)) entry.resume();
    this.#chain = this.#chain.then(() => this.#extract(entry)).catch((err: unknown) => this.#failWith(err, entry.path));
  }

  async #extract(entry: ReadEntry): Promise<void> {
    if (this.#failed) {
      entry.resume();
      return;
    }
    const target = join(this.#destDir, entry.path);
    // Private whatever the archive says: images hold the process's memory.
    const mode = PRIVATE_FILE_MODE;
    if (!FILE_TYPES.has(entry.type)) this.#check?.other(entry.path, entry.type === 'Directory');
    if (entry.type === 'Directory') {
      await this.#makeDir(target, PRIVATE_DIR_MODE);
      return;
    }
    await this.#makeDir(dirname(target), PRIVATE_DIR_MODE);
    if (entry.type === 'SymbolicLink') await symlink(entry.linkpath ?? '', target);
    else if (entry.type === 'Link') await link(join(this.#destDir, entry.linkpath ?? ''), target);
    else await this.#writeFile(entry, target, mode);
  }

  async #writeFile(entry: ReadEntry, target: string, mode: number): Promise<void> {
    const routed = await this.#route?.open(entry.path);
    const out = routed ?? createWriteStream(target, { mode });
    this.#current = out;
    const digest =
      this.#check && new DigestStage(ManifestCheck.isManifest(entry.path) ? MAX_MANIFEST_BYTES : 0, this.#check.piecesOf(entry.path));
    try {
      const signal = this.#stopFile.signal;
      await (digest ? pipeline(entry, digest, out, { signal }) : pipeline(entry, out, { signal }));
    } catch (err) {
      digest?.abort();
      throw err;
    } finally {
      this.#bytesDone += out.bytesWritten;
      this.#current = undefined;
    }
    if (this.#check !== undefined && digest !== undefined) {
      if (digest.kept === undefined) this.#check.file(entry.path, await digest.result());
      else this.#check.manifest(digest.kept.toString('utf8'));
    }
    this.#route?.done(entry.path, routed !== undefined);
  }

  async #makeDir(dir: string, mode: number): Promise<void> {
    if (this.#madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true, mode });
    this.#madeDirs.add(dir);
  }

  #failWith(err: unknown, entryPath: string): void {
    if (this.#failed) return;
    // The manifest check's verdicts name the file already.
    if (isCedanaError(err)) {
      this.#fail(err);
      return;
    }
    const code = (err as NodeJS.ErrnoException).code;
    // Errors of the destination keep their code, so the caller can tell "disk full" from "bad archive".
    if (typeof code === 'string' && DESTINATION_ERRORS.has(code)) {
      this.#fail(Object.assign(err as Error, { entryPath }));
      return;
    }
    const why = err instanceof Error ? err.message : String(err);
    this.#fail(this.#invalid(`holds the entry ${JSON.stringify(entryPath)}, which cannot be extracted (${why})`));
  }

  #fail(err: Error): Error {
    if (this.#failed) return this.#failed;
    this.#failed = err;
    this.#stopFile.abort(err);
    this.#onFailure?.();
    this.#release();
    return err;
  }

  #release(): void {
    const callback = this.#waiting;
    this.#waiting = undefined;
    callback?.(this.#failed);
  }

  #invalid(what: string): CedanaError {
    return new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${this.#source} ${what}`);
  }
}

/** Passes a file's bytes on while hashing them (on a hashing worker); keeps them instead (up to `keepUpTo` bytes) for checkpoint.json. */
class DigestStage extends Transform {
  readonly #hash: StreamHash | undefined;
  readonly #keepUpTo: number;
  #size = 0;
  #chunks: Buffer[] = [];

  constructor(keepUpTo: number, pieces?: PieceSpec) {
    super();
    this.#keepUpTo = keepUpTo;
    this.#hash = keepUpTo > 0 ? undefined : new StreamHash(pieces);
  }

  /** The kept bytes, when this stage keeps them. */
  get kept(): Buffer | undefined {
    return this.#keepUpTo > 0 ? Buffer.concat(this.#chunks) : undefined;
  }

  async result(): Promise<FileDigest> {
    if (this.#hash === undefined) throw new Error('this stage keeps its bytes instead of hashing them');
    return this.#hash.digest();
  }

  abort(): void {
    this.#hash?.abort();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#hash === undefined) {
      if (this.#size > this.#keepUpTo) callback(new Error(`larger than ${this.#keepUpTo} bytes, too large for a manifest`));
      else {
        this.#chunks.push(chunk);
        callback(null, chunk);
      }
      return;
    }
    const backlog = this.#hash.update(chunk);
    if (backlog === undefined) callback(null, chunk);
    else backlog.then(() => callback(null, chunk), callback);
  }
}
