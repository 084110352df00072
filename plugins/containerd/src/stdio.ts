/**
 * Where a task's stdio go. By default the runc shim appends stdout and stderr to the job's
 * log (`file://LOG`). An attachable job's task gets three FIFOs instead (containerd's own
 * way, as `ctr` does): the shim copies between them and the process's pipes, and the daemon
 * holds the other ends, opened read-write so that neither side sees an early EOF or blocks.
 * A restored task gets new FIFOs: runc reconnects the process to the shim's new pipes.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CedanaError, type Started } from '@cedana/plugin-sdk';

export interface TaskStdio {
  stdin: string;
  stdout: string;
  stderr: string;
  /** The daemon's ends (attachable only). */
  ends?: NonNullable<Started['stdio']>;
  /** Removes the FIFOs (once the task has ended). */
  remove(): Promise<void>;
}

/** The job's log, appended to by the shim. */
export function logStdio(log: string): TaskStdio {
  return { stdin: '', stdout: `file://${log}`, stderr: `file://${log}`, remove: async () => {} };
}

/** Three FIFOs in a private folder, and the daemon's ends of them. */
export async function attachStdio(): Promise<TaskStdio> {
  const dir = await mkdtemp(join(tmpdir(), 'cedana-containerd-io-'));
  const [stdin, stdout, stderr] = ['stdin', 'stdout', 'stderr'].map((n) => join(dir, n)) as [string, string, string];
  const opened: number[] = [];
  try {
    await promisify(execFile)('mkfifo', ['-m', '0600', stdin, stdout, stderr]);
    const open = (path: string) => {
      const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
      opened.push(fd);
      return fd;
    };
    const ends = {
      stdin: new Socket({ fd: open(stdin), readable: false, writable: true }),
      stdout: new Socket({ fd: open(stdout), readable: true, writable: false }),
      stderr: new Socket({ fd: open(stderr), readable: true, writable: false }),
    };
    return { stdin, stdout, stderr, ends, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    for (const fd of opened) closeSync(fd);
    await rm(dir, { recursive: true, force: true });
    throw new CedanaError('CEDANA_ERR_CONTAINERD_FAILED', `cannot make the FIFOs of an attachable container: ${(err as Error).message}`, {
      hint: 'mkfifo (coreutils) must be on the daemon’s PATH, and the system temp folder writable',
    });
  }
}

/** Closes the daemon's ends and removes the FIFOs. */
export async function closeStdio(s: TaskStdio): Promise<void> {
  for (const end of [s.ends?.stdin, s.ends?.stdout, s.ends?.stderr]) end?.destroy();
  await s.remove();
}
