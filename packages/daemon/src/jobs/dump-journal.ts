/**
 * The dump journal: a dump writes down what it is about to do before it does it, so that
 * a daemon killed in the middle finishes or undoes it on its next start (dump-recovery.ts).
 * One record per dump in the store, keyed by the dump's ID, that moves through
 *   started      the images folder exists; CRIU is about to run, or runs
 *   images-done  CRIU (and the streamer) are done: the images are complete, checkpoint.json's facts known
 *   packed       the archive (or the folder with its checkpoint.json) is complete: the checkpoint is known
 * and is deleted once the checkpoint and the job's records are written (registered), or
 * once a failed dump has cleaned up after itself.
 */

import { processStartTime } from '@cedana/core';
import { Checkpoint } from '@cedana/core/proto';
import type { ManifestDraft } from '../checkpoint/manifest.js';
import type { Store } from '../store/store.js';

export const DUMP_PHASES = ['started', 'images-done', 'packed'] as const;
export type DumpPhase = (typeof DUMP_PHASES)[number];

export interface DumpRecord {
  id: string;
  phase: DumpPhase;
  /** The images folder (the archive is packed next to it). */
  dir: string;
  jid: string;
  type: string;
  /** Root of the dumped tree (0 while a runtime plugin has not named it) and its start time in ticks: a reused PID is not it. */
  pid: number;
  startTicks: number;
  /** As asked for: what recovery packs with. */
  compression: string;
  streams: number;
  leaveRunning: boolean;
  startedAt: string;
  /** checkpoint.json's facts as known at this phase (complete from images-done on). */
  facts: ManifestDraft;
  /** When CRIU was done: the checkpoint's createdAt. */
  createdAt?: string;
  /** From packed on: the checkpoint to register. */
  checkpoint?: Checkpoint;
}

export type DumpStart = Pick<DumpRecord, 'id' | 'dir' | 'jid' | 'type' | 'pid' | 'compression' | 'streams' | 'leaveRunning' | 'facts'>;

/** What prepareDumpDir tells the journal as the dump goes. */
export interface DumpIntent {
  started(start: DumpStart): Promise<void>;
  imagesDone(pid: number, facts: ManifestDraft, createdAt: string): Promise<void>;
  packed(checkpoint: Checkpoint): Promise<void>;
}

/** For a dump nobody needs to recover (unit tests of the pipeline). */
export const NO_INTENT: DumpIntent = {
  started: async () => {},
  imagesDone: async () => {},
  packed: async () => {},
};

export class DumpJournal {
  constructor(private readonly store: Store) {}

  /** One dump's intent; close() deletes its record (the dump is registered, or failed and cleaned up). */
  intent(): DumpIntent & { close(): Promise<void> } {
    let record: DumpRecord | undefined;
    const put = async (r: DumpRecord) => {
      record = r;
      await this.store.putDump(r.id, toJson(r));
    };
    return {
      started: async (start) => {
        const startTicks = (start.pid && (await processStartTime(start.pid))) || 0;
        await put({ ...start, phase: 'started', startTicks, startedAt: new Date().toISOString() });
      },
      imagesDone: async (pid, facts, createdAt) => {
        if (!record) return;
        const startTicks = pid === record.pid ? record.startTicks : (await processStartTime(pid)) || 0;
        await put({ ...record, phase: 'images-done', pid, startTicks, facts, createdAt });
      },
      packed: async (checkpoint) => {
        if (record) await put({ ...record, phase: 'packed', checkpoint });
      },
      close: async () => {
        if (record) await this.store.deleteDump(record.id);
        record = undefined;
      },
    };
  }

  /** The records of dumps that did not end: a daemon died during them. */
  async list(): Promise<DumpRecord[]> {
    return (await this.store.listDumps()).map(fromJson).filter((r): r is DumpRecord => r !== undefined);
  }

  async drop(id: string): Promise<void> {
    await this.store.deleteDump(id);
  }
}

function toJson(r: DumpRecord): unknown {
  return { ...r, checkpoint: r.checkpoint && Checkpoint.toJSON(r.checkpoint) };
}

function fromJson(v: unknown): DumpRecord | undefined {
  const r = v as Partial<Record<keyof DumpRecord, unknown>>;
  if (typeof r?.id !== 'string' || typeof r.dir !== 'string' || !DUMP_PHASES.includes(r.phase as DumpPhase)) return undefined;
  return { ...(r as DumpRecord), checkpoint: r.checkpoint ? Checkpoint.fromJSON(r.checkpoint) : undefined };
}
