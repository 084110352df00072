/**
 * Post-copy migration's page traffic: the bytes between the source's `criu dump --lazy-pages`
 * and the target's `criu lazy-pages`, each holding one end of a socketpair (`--ps-socket`), are
 * relayed by the two daemons over one MigratePages call (gRPC, with the target's token). CRIU's
 * page server has no auth or TLS of its own, so it never listens on an address.
 *
 * The source side guards the job: until the target says the job runs there, a relay that ends
 * or fails kills the source's criu instead of closing its socket (a closed socket would let that
 * criu finish the dump and kill the frozen tree; a killed one lets the tree resume).
 */
import type { Duplex } from 'node:stream';
import type { PageChannel } from '@cedana/core';
import type { MigratePage } from '@cedana/core/proto';
import { type ClientDuplexStream, type ServerDuplexStream, type StatusObject, status } from '@grpc/grpc-js';

/** How CRIU ended on this side: `ok` once it served (source) or pulled (target) every page. */
export interface PagesEnd {
  ok: boolean;
  why: string;
}

export interface AttachedPages {
  socket: Duplex;
  criuPid: number;
  ended: Promise<PagesEnd>;
}

/** The gRPC call as a duplex of MigratePage messages (client or server side). */
export type PageCall = ClientDuplexStream<MigratePage, MigratePage> | ServerDuplexStream<MigratePage, MigratePage>;

/** A channel whose attach (by the criu plugin) settles `attached`. */
export class PageSlot implements PageChannel {
  private resolveAttached!: (a: AttachedPages) => void;
  /** Whether the criu plugin attached: set at once, so a caller need not wait for a promise. */
  current?: AttachedPages;
  readonly attached = new Promise<AttachedPages>((resolve) => {
    this.resolveAttached = resolve;
  });
  private used = false;

  attach(socket: Duplex, criuPid: number, ended: Promise<PagesEnd>): void {
    if (this.used) throw new Error("CRIU's page server serves one session: this migration's page channel is in use");
    this.used = true;
    ended.catch(() => {});
    this.current = { socket, criuPid, ended };
    this.resolveAttached(this.current);
  }
}

export interface RelayHooks {
  /**
   * The call ended: cleanly (no `err`: the source closed, or the target's lazy-pages pulled every
   * page), or not (the other host failed, died, or the connection broke).
   */
  onRemoteEnd(err?: Error): void;
}

/**
 * Copies bytes both ways with backpressure. The socket's end ends the call; the call's end is
 * handed to `hooks` (the caller decides whether to end the socket or kill its criu).
 */
export function relay(socket: Duplex, call: PageCall, hooks: RelayHooks): void {
  let over = false;
  const remoteEnd = (err?: Error) => {
    if (over) return;
    over = true;
    hooks.onRemoteEnd(err);
  };
  socket.on('data', (data: Buffer) => {
    if (!call.write({ id: '', data, overData: false } satisfies MigratePage)) {
      socket.pause();
      call.once('drain', () => socket.resume());
    }
  });
  socket.on('end', () => call.end());
  socket.on('error', () => {
    if ('cancel' in call) call.cancel();
    else call.destroy();
  });
  call.on('data', (m: MigratePage) => {
    if (m.data.length === 0) return;
    if (!socket.write(m.data)) {
      call.pause();
      socket.once('drain', () => call.resume());
    }
  });
  if ('cancel' in call) {
    // The source's side: the target's status says whether its lazy-pages pulled every page.
    call.on('status', (st: StatusObject) => remoteEnd(st.code === status.OK ? undefined : new Error(st.details)));
  } else call.on('end', () => remoteEnd());
  call.on('error', (err: Error) => remoteEnd(err));
  call.resume();
}

/**
 * Joins CRIU's socket to the data connection (data-link.ts) both ways with backpressure: the
 * bytes pass with no framing. The socket's end ends the connection; the connection's end (or
 * break) is handed to `hooks`, since on the source it is not by itself the copy's end (the
 * MigratePages call's status says that).
 */
export function joinRaw(socket: Duplex, data: Duplex, hooks: { onDataEnd(err?: Error): void }): void {
  let over = false;
  const dataEnd = (err?: Error) => {
    if (over) return;
    over = true;
    hooks.onDataEnd(err);
  };
  socket.pipe(data, { end: true });
  data.pipe(socket, { end: false });
  socket.on('error', () => data.destroy());
  data.on('end', () => dataEnd());
  data.on('error', (err: Error) => dataEnd(err));
  data.on('close', () => dataEnd(new Error('the data connection closed')));
  data.resume();
}
