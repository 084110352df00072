/**
 * checkpoint.json's layout (format 2): the daemon's own facts at the top level, typed
 * here, and one section per plugin under `sections.<plugin>`, which only that plugin
 * writes (request-context.ts enforces it). Format 1 kept a plugin's facts at the top level
 * under the plugin's name: `fromFormat1` reads that layout into this one.
 */
import type { CriuOptions, RestoreIo } from './pipelines.js';
import type { Job } from './proto/gen/cedana/daemon/v1/types.js';

/** Bumped when the layout changes; restore reads this format and the ones `fromFormat1` upgrades. */
export const MANIFEST_FORMAT = 2;

/**
 * The XXH64 of each `bytes`-long piece of a file (the last one shorter), for the files a
 * restore checks while CRIU already reads them (the page files): ~6x cheaper than sha256,
 * and a mismatch names the piece's offset.
 */
export interface FilePieces {
  bytes: number;
  xxh64: string[];
}

/** Size and sha256 of one file of a checkpoint. */
export interface FileDigest {
  size: number;
  /** Empty only in what a restore computed when it checked `pieces` instead. */
  sha256: string;
  /** Written for page files by a dump that could build the daemon's helper; a restore checks these instead of sha256. */
  pieces?: FilePieces;
  /**
   * Set when the file's reader checks it piece by piece as it reads it, against digests
   * in this other file of the checkpoint (the streamer's shards: img-index.json, whose
   * sha256 is checked up front). A restore from the folder then checks only its size
   * before starting, not its sha256; copies and whole downloads still check the sha256 (a
   * restore from remote storage serves the shards as they arrive, checked per chunk).
   */
  chunkDigests?: string;
}

/** What a dump records of the job it dumped (the job's record after a restore elsewhere). */
export type ManifestJob = Partial<Pick<Job, 'jid' | 'type' | 'log' | 'attachable' | 'gpuEnabled' | 'process'>>;

/** A mount the dumped namespace shares with the host: named (`--external mnt[MOUNTPOINT]:KEY`), not saved. */
export interface ManifestMount {
  key: string;
  mountpoint: string;
}

/** The CRIU options a restore repeats from its dump (criu-options/repeated.ts in the daemon). */
export type RecordedCriuOptions = Partial<Pick<CriuOptions, 'tcpEstablished' | 'fileLocks' | 'shellJob' | 'extUnixSk' | 'external'>>;

/** A plugin's section: plain JSON of its own shape. */
export type ManifestSection = object;

/** The facts of a checkpoint: what the daemon writes (top level) and the plugins' sections. */
export interface ManifestFacts {
  /** The checkpoint's ID. */
  id?: string;
  /** Root PID of the dumped tree. */
  pid?: number;
  type?: string;
  jid?: string;
  /** `none`, `lz4`, `zstd`, ... (`lz4` for streams: the streamer compresses them). */
  compression?: string;
  streams?: number;
  /** Version of every loaded plugin at the dump, by name. */
  plugins?: Record<string, string>;
  job?: ManifestJob;
  process?: { startTime?: number };
  /** The tree is init of its own PID namespace (and `mountNamespace`: of its own mount namespace). */
  pidNamespace?: boolean;
  mountNamespace?: boolean;
  externalMounts?: ManifestMount[];
  /** Standard streams that were pipes to the daemon (an attachable job's), by CRIU's key. */
  io?: RestoreIo;
  criuOptions?: RecordedCriuOptions;
  /** Written before `criuOptions` existed; read by restores of such checkpoints. */
  tcpEstablished?: boolean;
  shellJob?: boolean;
  /** Finished by a daemon that started again after it was stopped during the dump (jobs/dump-recovery.ts). */
  recovered?: boolean;
  /** Each plugin's own facts, by plugin name (made when the first plugin writes one). */
  sections?: Record<string, ManifestSection>;
}

/** checkpoint.json as written: the facts, and what the files are and where they were made. */
export interface CheckpointManifest extends ManifestFacts {
  sections: Record<string, ManifestSection>;
  format: number;
  createdAt: string;
  host: { cedana: string; node: string; kernel: string; hostname: string };
  files: Record<string, FileDigest>;
}

/** Every top-level key of checkpoint.json: the one list, checked against the types above. */
const TOP_LEVEL = {
  id: true,
  pid: true,
  type: true,
  jid: true,
  compression: true,
  streams: true,
  plugins: true,
  job: true,
  process: true,
  pidNamespace: true,
  mountNamespace: true,
  externalMounts: true,
  io: true,
  criuOptions: true,
  tcpEstablished: true,
  shellJob: true,
  recovered: true,
  sections: true,
  format: true,
  createdAt: true,
  host: true,
  files: true,
} as const satisfies Record<keyof CheckpointManifest, true>;

/** True for a key of checkpoint.json the daemon owns (a plugin writes none of them). */
export function isCoreFact(key: string): boolean {
  return Object.hasOwn(TOP_LEVEL, key);
}

/** A restore context's manifest until prepareRestoreDir has read the checkpoint's. */
export function unreadManifest(): CheckpointManifest {
  return { format: MANIFEST_FORMAT, createdAt: '', host: { cedana: '', node: '', kernel: '', hostname: '' }, files: {}, sections: {} };
}

/**
 * Facts in format 1's layout (a checkpoint.json, or a dump journal of a daemon from before
 * format 2) in format 2's: every top-level key that is not the daemon's was a plugin's facts
 * under its name (`runc`, `streamer`, `gpu`, ...) and becomes its section. Facts in format
 * 2's layout come back as they are. The values are as they were read (JSON): not checked.
 */
export function fromFormat1(old: object): ManifestFacts {
  const top: Record<string, unknown> = {};
  const sections: Record<string, ManifestSection> = {};
  for (const [key, value] of Object.entries(old)) {
    if (key === 'fileDigests') continue; // a hand-over of format 1's dumps, never meant to be written
    if (isCoreFact(key)) top[key] = value;
    else if (typeof value === 'object' && value !== null) sections[key] = value;
  }
  return { ...top, sections: { ...(top.sections as Record<string, ManifestSection> | undefined), ...sections } };
}

/**
 * A plugin's section of a checkpoint.json read as plain JSON (a plugin's own CLI command,
 * e.g. `cedana tag show`): format 2's `sections.<plugin>`, or format 1's top-level key.
 */
export function sectionOf<T extends ManifestSection>(json: unknown, plugin: string): T | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const m = json as { format?: unknown; sections?: Record<string, unknown> } & Record<string, unknown>;
  const value = m.format === 1 ? m[plugin] : m.sections?.[plugin];
  return typeof value === 'object' && value !== null ? (value as T) : undefined;
}
