/**
 * Watches a container's init that is not the shim's child (a managed container, or when
 * the shim could not become a subreaper): poll /proc. Its exit code cannot be known.
 */
import { type ExitStatus, processStartTime, type Started, untilGone } from '@cedana/plugin-sdk';

/** A Started for a live PID whose exit code nobody can learn. */
export async function watchContainer(pid: number): Promise<Started> {
  const start = await processStartTime(pid);
  const exited: Promise<ExitStatus> = untilGone(pid, start).then(() => ({ code: null, signal: null }));
  return { pid, exited };
}
