/**
 * The locks of dumps and restores: one CRIU run per job (held on its JobRuntime) and one
 * dump per PID (jobs or not). An exit that arrives while a job is locked waits for the lock's release.
 */
import { CedanaError, type ExitStatus } from '@cedana/core';
import { JobRuntime } from './runtime.js';

export class JobLocks {
  private readonly runtimes = new Map<string, JobRuntime>();
  /** PIDs being dumped right now, jobs or not. */
  private readonly dumping = new Set<number>();

  /** @param onPendingExit handles an exit that arrived while the job was locked, once it is released. */
  constructor(private readonly onPendingExit: (jid: string, status: ExitStatus) => Promise<void>) {}

  /** The runtime of `jid`, made when it has none. */
  runtime(jid: string): JobRuntime {
    let rt = this.runtimes.get(jid);
    if (!rt) {
      rt = new JobRuntime();
      this.runtimes.set(jid, rt);
    }
    return rt;
  }

  /** The runtime of `jid` if it has one. */
  find(jid: string): JobRuntime | undefined {
    return this.runtimes.get(jid);
  }

  /** Forgets `jid`'s runtime (its job is deleted): its I/O holder is told to quit and its streams closed. */
  forget(jid: string): void {
    const rt = this.runtimes.get(jid);
    rt?.holder?.quit();
    rt?.io?.close();
    this.runtimes.delete(jid);
  }

  async withJobLock<T>(jid: string, fn: (rt: JobRuntime) => Promise<T>): Promise<T> {
    const rt = this.runtime(jid);
    if (rt.busy) throw new CedanaError('CEDANA_ERR_JOB_BUSY', `job "${jid}" is being dumped or restored right now`);
    rt.busy = true;
    try {
      return await fn(rt);
    } finally {
      rt.busy = false;
      const pending = rt.pendingExit;
      rt.pendingExit = undefined;
      if (pending) await this.onPendingExit(jid, pending);
    }
  }

  async withPidLock<T>(pid: number, fn: () => Promise<T>): Promise<T> {
    if (this.dumping.has(pid)) throw new CedanaError('CEDANA_ERR_JOB_BUSY', `PID ${pid} is being dumped right now`);
    this.dumping.add(pid);
    try {
      return await fn();
    } finally {
      this.dumping.delete(pid);
    }
  }
}
