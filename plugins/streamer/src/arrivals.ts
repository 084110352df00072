/**
 * Shards still arriving while the streamer serves (a checkpoint in remote storage: the
 * daemon downloads them into full-size files, ArrivingImages): which byte ranges of each
 * shard hold their bytes, told by the daemon on the streamer's stdin. A chunk is read only
 * once its range is all present; one that is not is asked for (`want`, so the daemon
 * fetches it before the rest) and waited for. The daemon's download failing fails every
 * wait: CRIU's next read fails and nothing restored runs. The bytes are checked as any
 * served chunk is (its sha256 from the index) once read.
 */
import { shardName } from './format.js';

/** What the daemon writes on a serving streamer's stdin after its job, one per line. */
export type ArrivalMessage = { present: [file: string, start: number, end: number] } | { failed: string };

/** How a wait ends once CRIU is done (the caller stopped the streamer): nobody reads those bytes any more. */
export class ArrivalsStopped extends Error {}

interface Waiter {
  start: number;
  end: number;
  resolve(): void;
  reject(err: Error): void;
}

export class Arrivals {
  /** Per shard, the ranges present, merged and sorted. */
  private readonly present: [number, number][][];
  private readonly waiters: Waiter[][];
  private failure: Error | undefined;

  constructor(
    streams: number,
    private readonly want: (file: string, start: number, end: number) => void,
  ) {
    this.present = Array.from({ length: streams }, () => []);
    this.waiters = Array.from({ length: streams }, () => []);
  }

  /** Takes one message of the daemon's; unknown shards and malformed ones are ignored. */
  take(m: ArrivalMessage): void {
    if ('failed' in m) {
      this.fail(new Error(`the download of the checkpoint failed: ${m.failed}`));
      return;
    }
    const [file, start, end] = m.present;
    const shard = this.present.findIndex((_r, i) => shardName(i) === file);
    if (shard < 0 || !(end > start)) return;
    this.add(shard, start, end);
  }

  /** Resolves once the bytes [start, end) of shard `shard` are all present. */
  until(shard: number, start: number, end: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.covers(shard, start, end)) return Promise.resolve();
    this.want(shardName(shard), start, end);
    return new Promise((resolve, reject) => this.waiters[shard]?.push({ start, end, resolve, reject }));
  }

  private add(shard: number, start: number, end: number): void {
    const ranges = this.present[shard] as [number, number][];
    ranges.push([start, end]);
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged.at(-1);
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    this.present[shard] = merged;
    const waiting = this.waiters[shard] as Waiter[];
    this.waiters[shard] = waiting.filter((w) => {
      if (!this.covers(shard, w.start, w.end)) return true;
      w.resolve();
      return false;
    });
  }

  private covers(shard: number, start: number, end: number): boolean {
    return (this.present[shard] ?? []).some(([s, e]) => s <= start && end <= e);
  }

  /** CRIU is done: waits still pending end (ArrivalsStopped), as does every later one. */
  stop(): void {
    this.fail(new ArrivalsStopped('CRIU is done: the bytes it did not read are not waited for'));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const list of this.waiters) for (const w of list.splice(0)) w.reject(err);
  }
}
