/**
 * The XXH64 of each PIECE_BYTES piece of a file (FileDigest.pieces): what a dump records
 * for the page files, and what a restore checks them against while CRIU already reads
 * them, at ~6x less CPU than their sha256 on the cores CRIU needs. Computed in the hashing
 * workers (file-digest.ts, hash-worker.ts) with the daemon's helper (xxh64.c).
 */
import type { FilePieces } from '@cedana/core';
import { loadAddon, type Xxh64 } from '@cedana/plugin-sdk/native';

export type { FilePieces };

/** A mismatch names its piece: 4 MiB, 256 digests (4 KiB of checkpoint.json) per GiB. */
export const PIECE_BYTES = 4 << 20;

/** What a hashing request asks for besides the size: the pieces' digests (with the helper at `addon`), and the sha256 unless `sha256` is false. */
export interface PieceSpec {
  addon: string;
  sha256: boolean;
}

/** CRIU's page contents: the files that get pieces. */
export const isPagesImage = (name: string) => /^pages-\d+\.img$/.test(name);

export class PieceHasher {
  readonly #x: Xxh64;
  readonly #state: ReturnType<Xxh64['xxh64Create']>;
  readonly #digests: string[] = [];
  #fill = 0;

  constructor(addon: string) {
    this.#x = loadAddon<Xxh64>(addon);
    this.#state = this.#x.xxh64Create();
  }

  update(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; ) {
      const take = Math.min(PIECE_BYTES - this.#fill, bytes.length - at);
      this.#x.xxh64Update(this.#state, bytes.subarray(at, at + take));
      this.#fill += take;
      at += take;
      if (this.#fill === PIECE_BYTES) {
        this.#digests.push(this.#x.xxh64Digest(this.#state));
        this.#fill = 0;
      }
    }
  }

  /** The digests (an empty file has one, of nothing). */
  finish(): FilePieces {
    if (this.#fill > 0 || this.#digests.length === 0) this.#digests.push(this.#x.xxh64Digest(this.#state));
    this.#fill = 0;
    return { bytes: PIECE_BYTES, xxh64: this.#digests };
  }
}

/** The offset of the first piece of `got` that is not `want`'s, or undefined when they match. */
export function firstBadPiece(got: FilePieces, want: FilePieces): number | undefined {
  if (got.bytes !== want.bytes) return 0;
  const n = Math.max(got.xxh64.length, want.xxh64.length);
  for (let i = 0; i < n; i++) if (got.xxh64[i] !== want.xxh64[i]) return i * want.bytes;
  return undefined;
}
