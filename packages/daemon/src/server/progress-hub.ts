/**
 * Progress of running Dump and Restore calls, by the request ID their metadata carries
 * (wire.REQUEST_ID_KEY), for the Progress RPC. A watch may come before the call it
 * names (the CLI starts both at once) or after it ended (it then ends at once).
 * Reports are forwarded at most every 100 ms per request, except a phase's first and
 * last (done = total), so a tight loop of reports costs the client nothing.
 */
import type { ProgressFn } from '@cedana/core';
import type { ProgressEvent } from '@cedana/core/proto';

const MIN_INTERVAL_MS = 100;
/** Ended request IDs remembered, so a late watch ends at once instead of waiting. */
const ENDED_KEPT = 256;

interface Channel {
  watchers: Set<Watcher>;
  /** The last event sent, for a watcher that comes in between. */
  last?: ProgressEvent;
  open: boolean;
}

interface Watcher {
  onEvent(e: ProgressEvent): void;
  onEnd(): void;
}

export class ProgressHub {
  readonly #channels = new Map<string, Channel>();
  readonly #ended = new Set<string>();
  readonly #now: () => number;

  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  /** Starts reporting for request `id`: the context's progress function, and `end` for when the call is done. */
  open(id: string): { progress: ProgressFn; end(): void } {
    const channel = this.#channel(id);
    channel.open = true;
    let sentAt = 0;
    let phase = '';
    const progress: ProgressFn = (bytesDone, bytesTotal, p) => {
      const now = this.#now();
      const edge = p !== phase || (bytesTotal > 0 && bytesDone >= bytesTotal);
      if (!edge && now - sentAt < MIN_INTERVAL_MS) return;
      sentAt = now;
      phase = p;
      const event: ProgressEvent = {
        phase: p,
        bytesDone: Math.max(0, Math.floor(bytesDone)),
        bytesTotal: Math.max(0, Math.floor(bytesTotal)),
      };
      channel.last = event;
      for (const w of channel.watchers) w.onEvent(event);
    };
    return { progress, end: () => this.#end(id) };
  }

  /** Calls `onEvent` for each report of request `id` and `onEnd` once it is done; returns a way to stop watching. */
  watch(id: string, onEvent: (e: ProgressEvent) => void, onEnd: () => void): () => void {
    if (this.#ended.has(id)) {
      onEnd();
      return () => {};
    }
    const channel = this.#channel(id);
    const watcher = { onEvent, onEnd };
    channel.watchers.add(watcher);
    if (channel.last) onEvent(channel.last);
    return () => {
      channel.watchers.delete(watcher);
      if (!channel.open && channel.watchers.size === 0) this.#channels.delete(id);
    };
  }

  /** Requests with a channel (open calls, or watchers waiting for theirs). */
  get size(): number {
    return this.#channels.size;
  }

  #channel(id: string): Channel {
    let channel = this.#channels.get(id);
    if (!channel) {
      channel = { watchers: new Set(), open: false };
      this.#channels.set(id, channel);
    }
    return channel;
  }

  #end(id: string): void {
    const channel = this.#channels.get(id);
    this.#channels.delete(id);
    this.#ended.add(id);
    if (this.#ended.size > ENDED_KEPT) this.#ended.delete(this.#ended.values().next().value as string);
    for (const w of channel?.watchers ?? []) w.onEnd();
  }
}
