/**
 * Checks an archive's files against its checkpoint.json while it is unpacked, from the
 * digests the extractor computed of the bytes it wrote: no second read. packCheckpoint
 * stores checkpoint.json first, so each file is checked as soon as it is complete and
 * the first bad one stops the unpacking; a file that came before checkpoint.json (an
 * archive made otherwise) is checked when checkpoint.json arrives. `finish()` then
 * requires every listed file to have arrived, as a regular file. A file or link that
 * checkpoint.json does not list is refused, naming it.
 */
import { CedanaError } from '@cedana/core';
import {
  type CheckpointManifest,
  checkDigest,
  type FileDigest,
  MANIFEST_FILE,
  missingFile,
  parseManifest,
  RESTORE_OUTPUTS,
  unlistedFile,
} from './manifest.js';
import type { PieceSpec } from './piece-digests.js';

export class ManifestCheck {
  readonly #source: string;
  #manifest: CheckpointManifest | undefined;
  /** Digests of the files extracted so far, by path. */
  readonly #files = new Map<string, FileDigest>();
  /** Paths extracted as something else than a regular file. */
  readonly #others = new Set<string>();

  readonly #pieceAddon: string | undefined;

  /** `source` names the archive in errors ("the checkpoint archive PATH"); with `pieceAddon`, files with pieces' digests are checked by those. */
  constructor(source: string, pieceAddon?: string) {
    this.#source = source;
    this.#pieceAddon = pieceAddon;
  }

  /** What to compute of the file at `path` besides its size: its pieces' digests alone when checkpoint.json (known by now) has them. */
  piecesOf(path: string): PieceSpec | undefined {
    const addon = this.#pieceAddon;
    return addon && this.#manifest?.files[normalize(path)]?.pieces ? { addon, sha256: false } : undefined;
  }

  /** Whether the entry at `path` is checkpoint.json itself. */
  static isManifest(path: string): boolean {
    return normalize(path) === MANIFEST_FILE;
  }

  /** checkpoint.json arrived: files already extracted are checked now. */
  manifest(text: string): void {
    if (this.#manifest) throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${this.#source} holds ${MANIFEST_FILE} twice`);
    this.#manifest = parseManifest(text, `${MANIFEST_FILE} in ${this.#source}`);
    for (const [name, digest] of this.#files) this.#check(name, digest);
    for (const name of this.#others) this.#checkListed(name);
  }

  /** A regular file was extracted whole; throws naming it when checkpoint.json lists other contents. */
  file(path: string, digest: FileDigest): void {
    const name = normalize(path);
    this.#others.delete(name);
    this.#files.set(name, digest);
    this.#check(name, digest);
  }

  /** A folder or link was extracted at `path`. */
  other(path: string, folder = false): void {
    const name = normalize(path);
    this.#files.delete(name);
    if (folder) return;
    this.#others.add(name);
    this.#checkListed(name);
  }

  /** The verified manifest, once every file it lists arrived. */
  finish(): CheckpointManifest {
    const m = this.#manifest;
    if (m === undefined) {
      throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `${this.#source} is not a cedana checkpoint: it has no ${MANIFEST_FILE}`);
    }
    for (const name of Object.keys(m.files)) {
      if (this.#others.has(name)) {
        throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `checkpoint file ${name} in ${this.#source} is not a regular file`);
      }
      if (!this.#files.has(name)) throw missingFile(name, this.#source);
    }
    return m;
  }

  #check(name: string, digest: FileDigest): void {
    const files = this.#manifest?.files;
    this.#checkListed(name);
    if (files !== undefined && Object.hasOwn(files, name)) checkDigest(name, digest, files[name] as FileDigest);
  }

  /** Once checkpoint.json is known, an entry it does not list is refused. */
  #checkListed(name: string): void {
    const files = this.#manifest?.files;
    if (files === undefined || Object.hasOwn(files, name) || RESTORE_OUTPUTS.includes(name)) return;
    throw unlistedFile(name, this.#source);
  }
}

function normalize(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}
