/** The daemon's own RunHandler for type "process": spawns the program detached. */
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { CedanaError, type RunHandlerFn, type Started } from '@cedana/core';
import { spawnJob } from '@cedana/plugin-sdk';
import { makePipe } from './pipes.js';

/**
 * Starts the job's process in its own session with no terminal (what CRIU needs
 * to dump it without --shell-job), with no fd of the daemon's: the SDK's spawnJob, which
 * plugins' RunHandlers use too. Output goes to the job's log file, or to pipes the daemon
 * holds when the job is attachable.
 */
export const runProcess: RunHandlerFn = async function runProcess(_ctx, req, res): Promise<Started> {
  const [program, ...args] = req.process?.args ?? [];
  if (!program)
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no program to run: give it after `--`, e.g. `cedana run process -- sleep 60`');
  const env = req.process?.env.length ? { ...process.env, ...Object.fromEntries(req.process.env.map(splitEnv)) } : process.env;
  const cwd = req.process?.workingDir || process.cwd();
  const pipes = req.attachable ? [await makePipe(), await makePipe(), await makePipe()] : [];
  const [stdin, stdout, stderr] = pipes;
  try {
    const { pid, exited } = await spawnJob(program, args, {
      cwd,
      env,
      ...(stdin && stdout && stderr ? { stdio: [stdin.read, stdout.write, stderr.write] } : { log: req.log }),
    });
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
    for (const fd of [stdin?.write, stdout?.read, stderr?.read]) if (fd !== undefined) closeSync(fd); // the job's ends: below
    throw err;
  } finally {
    // The job holds its ends now; the daemon keeps only the other ones.
    for (const fd of [stdin?.read, stdout?.write, stderr?.write]) if (fd !== undefined) closeSync(fd);
  }
};

function splitEnv(kv: string): [string, string] {
  const i = kv.indexOf('=');
  return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
}
