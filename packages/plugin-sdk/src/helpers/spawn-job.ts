/**
 * Starting a job's process the way CRIU can dump it and restore it, the same way for the
 * daemon's own `run process` and for a plugin's RunHandler:
 * - no file descriptor of the daemon's (clean-spawn.ts's cleanExec): CRIU would dump them
 *   and fail to restore them once they changed (`File .../db/000003.log has bad size`);
 * - its own session with no terminal (setsid: `detached`), so CRIU needs no --shell-job;
 * - output appended to a log file (or given fds, e.g. the pipes of an attachable job).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { CedanaError, type ExitStatus } from '@cedana/core';
import { cleanExec } from './clean-spawn.js';
import { findOnPath } from './search-path.js';

/** The executable `program` names, looked up in PATH like a shell would; undefined if there is none. */
export async function resolveProgram(program: string, env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  if (!program.includes('/')) return findOnPath(program, env.PATH ?? '');
  const path = isAbsolute(program) ? program : resolve(cwd, program);
  return access(path, constants.X_OK).then(
    () => path,
    () => undefined,
  );
}

export interface SpawnJobOptions {
  /** Working folder (default: the daemon's). */
  cwd?: string;
  /** The whole environment (default: the daemon's). */
  env?: NodeJS.ProcessEnv;
  /** File that stdout and stderr are appended to (e.g. `req.log` of a RunReq); stdin is /dev/null. */
  log?: string;
  /** Or the job's stdin, stdout and stderr as fds (they stay open: close yours after the call). */
  stdio?: [number, number, number];
}

/** A started job: its PID, and `exited`, which settles once with its exit status and never rejects. */
export interface SpawnedJob {
  pid: number;
  exited: Promise<ExitStatus>;
}

/**
 * Starts `program args` as a job: in its own session, with no fd of the daemon's, output to
 * `log` (or `stdio`). Throws CEDANA_ERR_RUN_FAILED when the program does not exist or cannot
 * start. Return `{ pid, exited }` from a RunHandler as it is.
 */
export async function spawnJob(program: string, args: string[], opts: SpawnJobOptions = {}): Promise<SpawnedJob> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const path = await resolveProgram(program, env, cwd);
  if (!path) {
    throw new CedanaError(
      'CEDANA_ERR_RUN_FAILED',
      `cannot start ${JSON.stringify(program)}: no such executable${program.includes('/') ? '' : ' in PATH'}`,
    );
  }
  const log = opts.log !== undefined && !opts.stdio ? await open(opts.log, 'a') : undefined;
  try {
    const exec = cleanExec(path, args);
    const child = spawn(exec.file, exec.args, {
      detached: true,
      cwd,
      env,
      stdio: opts.stdio ?? (log ? ['ignore', log.fd, log.fd] : 'ignore'),
    });
    const exited = new Promise<ExitStatus>((done) => child.once('exit', (code, signal) => done({ code, signal })));
    await new Promise<void>((started, failed) => {
      child.once('spawn', started);
      child.once('error', (err) =>
        failed(
          new CedanaError(
            'CEDANA_ERR_RUN_FAILED',
            `cannot start ${JSON.stringify(program)}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
            { cause: err },
          ),
        ),
      );
    });
    child.unref();
    return { pid: child.pid as number, exited };
  } finally {
    await log?.close();
  }
}
