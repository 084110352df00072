import { CedanaError, type DumpAdapter, fdTarget, isAlive, processStartTime, sessionAndTty } from '@cedana/core';
import { externalMounts, ownMountNamespace, ownPidNamespace } from './pid-namespace.js';

// By now the request names the type and, for processes, the PID.

/** Checks the process lives and records what identifies it in the checkpoint. */
export const fillProcessStateForDump: DumpAdapter = (next) =>
  async function fillProcessStateForDump(ctx, req, res) {
    ctx.pid ||= req.pid;
    if (!ctx.pid || !(await isAlive(ctx.pid))) {
      throw new CedanaError('CEDANA_ERR_PROCESS_NOT_FOUND', `no running process with PID ${ctx.pid}`);
    }
    ctx.manifest.process = { startTime: await processStartTime(ctx.pid) };
    return next(ctx, req, res);
  };

/**
 * A process that is init of its own PID namespace (`run process --pid-ns`) is dumped with
 * its namespace, and its mount namespace when it has one: the checkpoint says so
 * (`pidNamespace`, `mountNamespace`), and a restore makes new ones instead of needing the
 * host PID back. The mounts of its namespace are the host's (`externalMounts`): named, not
 * saved. Containers of a runtime plugin are left to their plugin.
 */
export const detectPidNamespaceForDump: DumpAdapter = (next) =>
  async function detectPidNamespaceForDump(ctx, req, res) {
    if ((req.type || 'process') === 'process' && (await ownPidNamespace(ctx.pid))) {
      ctx.manifest.pidNamespace = true;
      ctx.manifest.mountNamespace = await ownMountNamespace(ctx.pid);
      if (ctx.manifest.mountNamespace) {
        const mounts = await externalMounts(ctx.pid);
        ctx.manifest.externalMounts = mounts;
        ctx.criu.external = [...(ctx.criu.external ?? []), ...mounts.map((m) => `mnt[${m.mountpoint}]:${m.key}`)];
      }
      ctx.log.info(
        { pid: ctx.pid, mountNamespace: ctx.manifest.mountNamespace },
        'process is init of its own PID namespace: dumping the namespace',
      );
    }
    return next(ctx, req, res);
  };

/** A process that is not its session's leader, or has a terminal, needs --shell-job. */
export const detectShellJobForDump: DumpAdapter = (next) =>
  async function detectShellJobForDump(ctx, req, res) {
    const s = await sessionAndTty(ctx.pid);
    if (s && !ctx.criu.shellJob && (s.sid !== ctx.pid || s.ttyNr !== 0)) {
      ctx.log.info({ pid: ctx.pid, sid: s.sid, tty: s.ttyNr }, 'process shares a session or has a terminal: dumping with --shell-job');
      ctx.criu.shellJob = true;
    }
    return next(ctx, req, res);
  };

/**
 * Standard streams connected to the daemon (an attachable job) are pipes whose
 * other end is outside the dumped tree: record their keys so restore can hand
 * CRIU new ones (--inherit-fd). Streams a runtime's shim holds (`ctx.stdioOwner`
 * `runtime`, set by its plugin) are left to the plugin.
 */
export const addExternalFilesForDump: DumpAdapter = (next) =>
  async function addExternalFilesForDump(ctx, req, res) {
    if (ctx.stdioOwner === 'runtime') return next(ctx, req, res);
    const io: Record<string, string> = {};
    for (const [fd, name] of [
      [0, 'stdin'],
      [1, 'stdout'],
      [2, 'stderr'],
    ] as const) {
      const target = await fdTarget(ctx.pid, fd);
      if (target && /^pipe:\[\d+\]$/.test(target)) io[name] = target;
    }
    if (Object.keys(io).length > 0) ctx.manifest.io = io;
    return next(ctx, req, res);
  };
