/**
 * Sends a checkpoint folder to the target: every file, then a file-backed job's log, then the
 * end. The bytes go over the data connection (data-link.ts, file-frames.ts) when one is open,
 * else in 1 MiB messages of the MigrateReceive stream; that stream names the migration first
 * and carries the end and the target's answer either way. `tail` sends the shards (img-N.lz4,
 * which the streamer only appends to) while the dump still writes them (migrate.send_during_dump).
 * The target takes a file in pieces, in order, between pieces of others, and checks everything
 * at the end.
 */
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { MigrateChunk, RestoreResp } from '@cedana/core/proto';
import type { ClientWritableStream } from '@grpc/grpc-js';
import { FrameWriter } from './file-frames.js';
import type { TargetDaemon } from './target-client.js';

/** The size of each data message: the streamer's chunk size. */
const PIECE = 1 << 20;
const SHARD = /^img-\d+\.lz4$/;
/** How long a failed send waits for the target's answer (its reason) before it cancels the call. */
const ANSWER_WAIT_MS = 5_000;
/** How often a growing shard is looked at while the dump runs. */
const TAIL_EVERY_MS = 20;

export class CheckpointSender {
  private readonly stream: ClientWritableStream<MigrateChunk>;
  /** Settles with the target's answer, or its failure (also while we still send). */
  readonly answer: Promise<RestoreResp>;
  private readonly sent = new Map<string, number>();
  private tailing?: Promise<void>;
  private stopTail = false;
  private tailError?: Error;
  private readonly frames?: FrameWriter;

  /** `data`: the files channel of the data connection, when it opened. */
  constructor(
    target: TargetDaemon,
    id: string,
    private readonly data?: Socket,
  ) {
    if (data) this.frames = new FrameWriter(data);
    const { stream, done } = target.receive();
    this.stream = stream;
    this.answer = done;
    done.catch(() => {}); // awaited by finish(); a failure may come while we still write
    void this.write({ part: { $case: 'id', value: id } }).catch((err: Error) => {
      this.tailError ??= err;
    });
  }

  /** Starts sending the shards of `path` as they grow (the folder may not exist yet). */
  tail(path: string): void {
    this.tailing = (async () => {
      while (!this.stopTail && !this.tailError) {
        await this.sendGrowth(path, true);
        await new Promise((r) => setTimeout(r, TAIL_EVERY_MS));
      }
    })().catch((err: Error) => {
      this.tailError ??= err;
    });
  }

  /** After the dump: the rest of every file, the job's log when given, the end; resolves with the target's answer. */
  async finish(path: string, jobLog?: { path: string; mode: number }): Promise<RestoreResp> {
    try {
      this.stopTail = true;
      await this.tailing;
      if (this.tailError) throw this.tailError;
      // A target that failed stops reading: its answer ends the wait rather than a full socket.
      await Promise.race([
        (async () => {
          await this.sendGrowth(path, false);
          if (jobLog) await this.sendRange(jobLog.path, '', 0, (await stat(jobLog.path)).size, jobLog.mode);
          await this.frames?.done();
        })(),
        this.answer.then(() => Promise.reject(new Error('the target answered before the transfer was complete'))),
      ]);
      await this.write({ part: { $case: 'done', value: true } });
      this.stream.end();
    } catch (err) {
      // The target's own reason says more than our write's failure: a target whose data connection
      // failed (a file it could not write) answers with it at once; give it that long to.
      if (this.data) {
        this.data.destroy();
        await Promise.race([this.answer.catch(() => {}), new Promise((r) => setTimeout(r, ANSWER_WAIT_MS).unref())]);
      }
      this.cancel();
      await this.answer;
      throw err;
    }
    return this.answer;
  }

  cancel(): void {
    this.stopTail = true;
    this.data?.destroy();
    this.stream.cancel();
  }

  /** Sends what each file (only the shards while `shardsOnly`) has beyond what was sent. */
  private async sendGrowth(path: string, shardsOnly: boolean): Promise<void> {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isFile() || (shardsOnly && !SHARD.test(e.name))) continue;
      const size = (await stat(join(path, e.name))).size;
      const from = this.sent.get(e.name);
      if (from !== undefined && size <= from) continue;
      await this.sendRange(join(path, e.name), e.name, from ?? 0, size, 0);
      this.sent.set(e.name, size);
    }
  }

  /** Bytes [from, to) of `file` as messages of `name` (`name` "" with a mode: the job's log). An empty file is one empty message. */
  private async sendRange(file: string, name: string, from: number, to: number, logMode: number): Promise<void> {
    const jobLog = logMode !== 0;
    if (this.frames) return this.frames.range(file, { name, jobLog, mode: logMode }, from, to);
    const fh: FileHandle = await open(file, 'r');
    try {
      if (from === to) return await this.write({ part: { $case: 'file', value: { name, data: Buffer.alloc(0), jobLog, mode: logMode } } });
      for (let off = from; off < to; ) {
        const data = Buffer.allocUnsafe(Math.min(PIECE, to - off));
        const { bytesRead } = await fh.read(data, 0, data.length, off);
        if (bytesRead === 0) throw new Error(`${file} ended at ${off} bytes, before the ${to} it had`);
        off += bytesRead;
        await this.write({ part: { $case: 'file', value: { name, data: data.subarray(0, bytesRead), jobLog, mode: logMode } } });
      }
    } finally {
      await fh.close();
    }
  }

  /** Writes one message, waiting for room; fails as soon as the call has failed or ended. */
  private write(m: MigrateChunk): Promise<void> {
    const stream = this.stream;
    return new Promise((resolve, reject) => {
      const closed = () => reject(new Error('the target ended the transfer before it was complete'));
      if (stream.destroyed || stream.writableEnded) return closed();
      const settle = (err?: Error) => {
        stream.off('close', closed);
        stream.off('error', settle);
        if (err) reject(err);
        else resolve();
      };
      stream.once('close', closed);
      stream.once('error', settle);
      this.answer.then(closed, (err: Error) => settle(err));
      if (stream.write(m)) settle();
      else stream.once('drain', () => settle());
    });
  }
}
