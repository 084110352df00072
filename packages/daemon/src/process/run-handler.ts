/** The daemon's own RunHandler for type "process": spawns the program detached. */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Socket } from 'node:net';
import { CedanaError, type ExitStatus, type RunHandlerFn, type Started } from '@cedana/core';
import { cleanExec, resolveProgram } from './exec-clean.js';
import { makePipe } from './pipes.js';

/**
 * Starts the job's process in its own session with no terminal (what CRIU needs
 * to dump it without --shell-job). Output goes to the job's log file, or to pipes
 * the daemon holds when the job is attachable.
 */
export const runProcess: RunHandlerFn = async function runProcess(_ctx, req, res): Promise<Started> {
  const [program, ...args] = req.process?.args ?? [];
  if (!program)
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no program to run: give it after `--`, e.g. `cedana run process -- sleep 60`');
  const env = req.process?.env.length ? { ...process.env, ...Object.fromEntries(req.process.env.map(splitEnv)) } : process.env;
  const cwd = req.process?.workingDir || process.cwd();
  const path = await resolveProgram(program, env, cwd);
  if (!path) {
    throw new CedanaError(
      'CEDANA_ERR_RUN_FAILED',
      `cannot start ${JSON.stringify(program)}: no such executable${program.includes('/') ? '' : ' in PATH'}`,
    );
  }
  const log = req.attachable ? undefined : await open(req.log, 'a');
  const pipes = req.attachable ? [await makePipe(), await makePipe(), await makePipe()] : [];
  const [stdin, stdout, stderr] = pipes;
  try {
    const exec = cleanExec(path, args);
    const child = spawn(exec.file, exec.args, {
      detached: true,
      cwd,
      env,
      stdio: log ? ['ignore', log.fd, log.fd] : [stdin?.read, stdout?.write, stderr?.write],
    });
    const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(
          new CedanaError(
            'CEDANA_ERR_RUN_FAILED',
            `cannot start ${JSON.stringify(program)}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
            { cause: err },
          ),
        ),
      );
    });
    child.unref();
    const pid = child.pid as number;
    res.pid = pid;
    if (!stdin || !stdout || !stderr) return { pid, exited };
    return {
      pid,
      exited,
      stdio: {
        stdin: new Socket({ fd: stdin.write, readable: false, writable: true }),
        stdout: new Socket({ fd: stdout.read, readable: true, writable: false }),
        stderr: new Socket({ fd: stderr.read, readable: true, writable: false }),
      },
    };
  } catch (err) {
    for (const p of pipes) for (const fd of [p.read, p.write]) closeSync(fd);
    throw err;
  } finally {
    await log?.close();
    // The job holds its ends now; the daemon keeps only the other ones.
    for (const fd of [stdin?.read, stdout?.write, stderr?.write]) if (fd !== undefined) closeSync(fd);
  }
};

function splitEnv(kv: string): [string, string] {
  const i = kv.indexOf('=');
  return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
}
