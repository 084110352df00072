/**
 * Exit status files: where a restored (or held) job's exit status is left for a daemon
 * that restarted meanwhile, one `{"code":N}` or `{"signal":N}` per job (RestoreContext.exitStatusFile).
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ExitStatus, fileNameFor, type Logger, signalName } from '@cedana/core';

/** The exit status file of job `jid` in `dir` (a JID from before the name rule never makes the path). */
export function exitFilePath(dir: string, jid: string): string {
  return join(dir, `${fileNameFor(jid)}.json`);
}

/**
 * How long a reaped process's status may take to reach its file: the restore shim reaps
 * the process (its PID is gone, which is what the daemon saw) and only then writes the file.
 */
const SETTLE_MS = 2000;
const SETTLE_POLL_MS = 50;

export class ExitFiles {
  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** The path for the next incarnation of `jid`, with the last one's status removed. */
  async fresh(jid: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    await this.remove(jid);
    return exitFilePath(this.dir, jid);
  }

  async remove(jid: string): Promise<void> {
    await rm(exitFilePath(this.dir, jid), { force: true });
  }

  /** The exit status left for the job, if any. */
  async read(jid: string): Promise<ExitStatus | undefined> {
    const file = exitFilePath(this.dir, jid);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const s = JSON.parse(text) as { code?: number; signal?: number };
      if (typeof s.code === 'number') return { code: s.code, signal: null };
      if (typeof s.signal === 'number') return { code: null, signal: signalName(s.signal) };
    } catch {
      this.log.warn({ jid, file }, 'unreadable exit status file');
    }
    return undefined;
  }

  /** The exit status left for a job whose process was just seen gone: its writer may still be at it (SETTLE_MS). */
  async settled(jid: string): Promise<ExitStatus | undefined> {
    for (const until = Date.now() + SETTLE_MS; ; await sleep(SETTLE_POLL_MS)) {
      const s = await this.read(jid);
      if (s || Date.now() >= until) return s;
    }
  }
}
