/**
 * A streamer dies with the daemon that started it. If the daemon is killed during a
 * streamed dump, a streamer left behind keeps CRIU's pipes open without reading them:
 * CRIU blocks in pipe_wait_writable with its parasite inside the job, which stays frozen
 * for good. A streamer that dies at once breaks CRIU's pipes instead; CRIU then fails
 * cleanly and continues the tree itself (seen on this machine: "Unfreezing tasks",
 * "Dumping FAILED", the job counts on).
 *
 * Node's spawn cannot set PR_SET_PDEATHSIG, so the streamer is started through
 * util-linux's `setpriv --pdeathsig SIGKILL` (an Essential package on Debian), which
 * sets it and execs node: the signal survives the exec. It fires when the thread that
 * spawned the child ends; Node spawns from its main thread, which ends only with the
 * daemon. Without setpriv the streamer is started as before.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

let setpriv: string | null | undefined;

function findSetpriv(): string | null {
  for (const dir of (process.env.PATH || '/usr/bin:/bin').split(':')) {
    const path = join(dir || '.', 'setpriv');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return null;
}

/** The setpriv that starts streamers, or null when there is none. */
export function setprivPath(): string | null {
  setpriv ??= findSetpriv();
  return setpriv;
}

/** `command args` as a command line that is SIGKILLed when the daemon dies. */
export function dyingWithDaemon(command: string, args: string[]): [string, string[]] {
  const path = setprivPath();
  return path ? [path, ['--pdeathsig', 'SIGKILL', '--', command, ...args]] : [command, args];
}
