/** The daemon's own RunHandler for type "process": spawns the program detached, or through an I/O holder. */
import { mkdir } from 'node:fs/promises';
import { CedanaError, processStartTime, type RunHandlerFn, type Started } from '@cedana/core';
import { resolveProgram, spawnJob } from '@cedana/plugin-sdk';
import { exitFilePath } from '../jobs/exit-files.js';
import { type HeldStarted, startHeldRun } from '../jobs/io-holder.js';
import { exitDir, ioDir } from '../jobs/state-paths.js';
import { namespaceInit, pidNamespaceExec } from './pid-namespace.js';
import { watchProcess } from './watch.js';

/**
 * Starts the job's process in its own session with no terminal (what CRIU needs
 * to dump it without --shell-job), with no fd of the daemon's: the SDK's spawnJob, which
 * plugins' RunHandlers use too. Output goes to the job's log file; an attachable job is
 * started by its I/O holder (jobs/io-holder.ts), which holds its pipes.
 * With `req.pidNamespace` the job is init of its own PID namespace (pid-namespace.ts):
 * its host PID is the job's PID, and unshare, its parent, reports its exit status.
 */
export const runProcess: RunHandlerFn = async function runProcess(ctx, req, res): Promise<Started> {
  const [program, ...args] = req.process?.args ?? [];
  if (!program)
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no program to run: give it after `--`, e.g. `cedana run process -- sleep 60`');
  const env = req.process?.env.length ? { ...process.env, ...Object.fromEntries(req.process.env.map(splitEnv)) } : process.env;
  const cwd = req.process?.workingDir || process.cwd();
  const ownNs = req.pidNamespace === true;
  if (!req.attachable && !ownNs) {
    const { pid, exited } = await spawnJob(program, args, { cwd, env, log: req.log });
    res.pid = pid;
    return { pid, exited };
  }
  const path = await resolveProgram(program, env, cwd);
  if (!path) {
    throw new CedanaError(
      'CEDANA_ERR_RUN_FAILED',
      `cannot start ${JSON.stringify(program)}: no such executable${program.includes('/') ? '' : ' in PATH'}`,
    );
  }
  if (!req.attachable) {
    const exec = pidNamespaceExec(path, args, req.log);
    const outer = await spawnJob(exec.file, exec.args, { cwd, env, log: req.log });
    const pid = await namespaceInit(outer.pid, JSON.stringify(program));
    res.pid = pid;
    return { pid, exited: outer.exited };
  }
  const exits = exitDir(ctx.config);
  await mkdir(exits, { recursive: true });
  const place = { dir: ioDir(ctx.config), jid: req.jid, log: req.log };
  const statusFile = exitFilePath(exits, req.jid);
  const run = ownNs ? pidNamespaceExec(path, args, undefined) : { file: path, args };
  const held = await startHeldRun(place, { ...run, cwd, env, statusFile });
  const { link } = held;
  const pid = ownNs ? await namespaceInit(held.pid, JSON.stringify(program)) : held.pid;
  res.pid = pid;
  const ticks = await processStartTime(pid);
  // A holder that went away without a word (killed): watch the process instead.
  const exited = link.exited.then((s) => s ?? watchProcess(pid, ticks).exited);
  const started: HeldStarted = { pid, exited, stdio: link.stdio, holder: link };
  return started;
};

function splitEnv(kv: string): [string, string] {
  const i = kv.indexOf('=');
  return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
}
