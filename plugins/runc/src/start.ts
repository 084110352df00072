/** `runc run -d` and `runc restore -d` of a container, through the shim, with runc's errors made readable. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CedanaError, criuErrorLines, criuHeadline, type Started } from '@cedana/plugin-sdk';
import { describeExit, globalArgs, readRuncLog, runcErrors } from './runc-cli.js';
import { startThroughShim } from './shim.js';

export interface StartContainer {
  binary: string;
  root: string;
  id: string;
  /** The runc subcommand and its flags, e.g. `['run', '-d', '-b', BUNDLE]`. */
  command: string[];
  io: { log: string } | { attach: true };
  code: 'CEDANA_ERR_RUNC_RUN' | 'CEDANA_ERR_RUNC_RESTORE';
  /** CRIU's log of a restore, read on failure. */
  criuLog?: string;
}

/**
 * Starts the container; when its init exits, the shim runs `runc delete ID` (a stopped
 * container of ours is never left behind) before it reports the exit.
 */
export async function startContainer(s: StartContainer): Promise<Started> {
  const work = await mkdtemp(join(tmpdir(), 'cedana-runc-'));
  const pidfile = join(work, 'init.pid');
  const runcLog = join(work, 'runc.log');
  try {
    const outcome = await startThroughShim({
      runc: [s.binary, ...globalArgs(s.root, runcLog), ...s.command, '--pid-file', pidfile, s.id],
      pidfile,
      io: s.io,
      onExit: [s.binary, ...globalArgs(s.root), 'delete', s.id],
    });
    if (outcome.kind === 'started') return outcome.started;
    if (outcome.spawnError) {
      throw new CedanaError(s.code, outcome.output, {
        hint: "containers start through a perl shim (Debian: apt-get install perl-base); make sure `perl` is on the daemon's PATH",
      });
    }
    const runc = runcErrors(await readRuncLog(runcLog), outcome.output);
    const criu = s.criuLog ? await criuErrorLines(s.criuLog) : [];
    const headline = criuHeadline(criu) ?? runc.at(-1) ?? 'runc printed no error';
    const details = [...runc.map((l) => `runc: ${l}`), ...criu, ...(s.criuLog && criu.length > 0 ? [`(full CRIU log: ${s.criuLog})`] : [])];
    throw new CedanaError(s.code, `runc ${s.command[0]} of container "${s.id}" failed (${describeExit(outcome)}): ${headline}`, {
      details,
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
