import type { ExitStatus, Started } from '@cedana/core';
import type { HolderLink } from './io-holder.js';
import type { JobIo } from './job-io.js';

/** What the daemon knows of a job beyond its record: the live process, its streams, its lock. */
export class JobRuntime {
  /** Bumped for every new incarnation; an exit of an older one is ignored. */
  generation = 0;
  started?: Started;
  io?: JobIo;
  /** The I/O holder of the current incarnation, when one holds its streams. */
  holder?: HolderLink;
  /** Held by a dump or restore: never two CRIU runs on one job. */
  busy = false;
  /** An exit that arrived while busy, handled when the lock is released. */
  pendingExit?: ExitStatus;
  /** Settles when the last incarnation's process is gone (its PID free for a restore). */
  gone: Promise<unknown> = Promise.resolve();
  readonly exitListeners = new Set<(status: ExitStatus) => void>();
}
