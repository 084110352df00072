/**
 * The standard streams of an attachable job, as the daemon sees them: output is
 * fanned out to every attached client, and the last SCROLLBACK bytes are replayed
 * to a client that attaches late. The streams are normally an I/O holder's
 * (io-holder.ts), which appends the output to the job's log itself; streams that
 * no holder relays are appended to the log here.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Started } from '@cedana/core';

const SCROLLBACK = 64 * 1024;

export type OutputListener = (stream: 'stdout' | 'stderr', chunk: Buffer) => void;

export class JobIo {
  private readonly listeners = new Set<OutputListener>();
  private scrollback: { stream: 'stdout' | 'stderr'; chunk: Buffer }[] = [];
  private scrollbackBytes = 0;
  private stdin?: Writable;
  private log?: WriteStream;
  private logged = false;

  constructor(private readonly logPath: string) {}

  /**
   * Connects the streams of a (new) process incarnation: after run, and again after restore.
   * `logged`: they come from an I/O holder, which writes the log.
   */
  connect(stdio: NonNullable<Started['stdio']>, { logged = false } = {}): void {
    this.logged = logged;
    this.stdin = stdio.stdin;
    stdio.stdin?.on('error', () => {});
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = stdio[name];
      stream?.on('data', (chunk: Buffer) => this.emit(name, chunk));
      stream?.on('error', () => {});
    }
  }

  /** Adds a listener; it first receives the scrollback. Returns the function that removes it. */
  subscribe(listener: OutputListener): () => void {
    for (const { stream, chunk } of this.scrollback) listener(stream, chunk);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  write(data: Buffer): void {
    this.stdin?.write(data);
  }

  closeStdin(): void {
    this.stdin?.end();
  }

  close(): void {
    this.log?.end();
  }

  private emit(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (!this.logged) this.appendToLog(chunk);
    this.scrollback.push({ stream, chunk });
    this.scrollbackBytes += chunk.length;
    while (this.scrollbackBytes > SCROLLBACK && this.scrollback.length > 1) {
      this.scrollbackBytes -= this.scrollback.shift()?.chunk.length ?? 0;
    }
    for (const l of this.listeners) l(stream, chunk);
  }

  private appendToLog(chunk: Buffer): void {
    if (!this.log) {
      this.log = createWriteStream(this.logPath, { flags: 'a' });
      this.log.on('error', () => {});
    }
    this.log.write(chunk);
  }
}
