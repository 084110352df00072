/**
 * Jobs and checkpoints, kept in LevelDB (`db.path`). Values are the API's own
 * messages in their proto3 JSON form, so a record reads back as what clients see.
 * Beside them, the dump journal's records (jobs/dump-journal.ts), which are the daemon's own.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CedanaError } from '@cedana/core';
import { Checkpoint, Job } from '@cedana/core/proto';
import { Level } from 'level';

const JOB = 'job/';
const CHECKPOINT = 'checkpoint/';
const DUMP = 'dump/';

export class Store {
  private constructor(private readonly db: Level<string, unknown>) {}

  static async open(path: string): Promise<Store> {
    await mkdir(dirname(path), { recursive: true });
    const db = new Level<string, unknown>(path, { valueEncoding: 'json' });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new CedanaError('CEDANA_ERR_CONFIG_VALUE', `cannot open the database at ${path} (db.path): ${cause}`, {
        hint: 'another daemon may hold it open; stop it, or set another db.path',
      });
    }
    return new Store(db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async putJob(job: Job): Promise<void> {
    await this.db.put(JOB + job.jid, Job.toJSON(job));
  }

  async getJob(jid: string): Promise<Job | undefined> {
    const v = await this.db.get(JOB + jid);
    return v === undefined ? undefined : Job.fromJSON(v);
  }

  async deleteJob(jid: string): Promise<void> {
    await this.db.del(JOB + jid);
  }

  async listJobs(): Promise<Job[]> {
    return this.list(JOB, Job.fromJSON);
  }

  async putCheckpoint(c: Checkpoint): Promise<void> {
    await this.db.put(CHECKPOINT + c.id, Checkpoint.toJSON(c));
  }

  async getCheckpoint(id: string): Promise<Checkpoint | undefined> {
    const v = await this.db.get(CHECKPOINT + id);
    return v === undefined ? undefined : Checkpoint.fromJSON(v);
  }

  async deleteCheckpoint(id: string): Promise<void> {
    await this.db.del(CHECKPOINT + id);
  }

  /** Checkpoints, oldest first; only those of `jid` when given. */
  async listCheckpoints(jid?: string): Promise<Checkpoint[]> {
    const all = await this.list(CHECKPOINT, Checkpoint.fromJSON);
    return all.filter((c) => !jid || c.jid === jid).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** A dump's intent record (jobs/dump-journal.ts), as plain JSON. */
  async putDump(id: string, record: unknown): Promise<void> {
    await this.db.put(DUMP + id, record);
  }

  async deleteDump(id: string): Promise<void> {
    await this.db.del(DUMP + id);
  }

  /** Every dump record left, in no particular order. */
  async listDumps(): Promise<unknown[]> {
    return this.list(DUMP, (v) => v);
  }

  private async list<T>(prefix: string, decode: (v: unknown) => T): Promise<T[]> {
    const out: T[] = [];
    for await (const value of this.db.values({ gt: prefix, lt: `${prefix}\xff` })) out.push(decode(value));
    return out;
  }
}
