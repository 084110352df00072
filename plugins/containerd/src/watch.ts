/**
 * The end of a container's task. containerd's Tasks.Wait gives its exit status; when the
 * call fails (containerd restarted, the daemon lost the connection), the SDK's untilGone
 * polls /proc until the PID is gone, guarded against PID reuse by its start time.
 */
import { type ExitStatus, signalName } from '@cedana/plugin-sdk';

/** containerd's exit status (the shim reports 128+N for a process killed by signal N) as code or signal. */
export function exitStatusOf(status: number): ExitStatus {
  if (status > 128 && status < 128 + 65) return { code: null, signal: signalName(status - 128) };
  return { code: status, signal: null };
}
