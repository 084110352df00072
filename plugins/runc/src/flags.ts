/**
 * CRIU options as flags of `runc checkpoint` / `runc restore`. runc passes only some of
 * CRIU's options through; the others are refused rather than silently dropped.
 */
import { CedanaError, type CriuOptions } from '@cedana/plugin-sdk';

/** Flags of `runc checkpoint`. */
export function checkpointFlags(o: CriuOptions): string[] {
  assertPassable(o);
  return [
    ...(o.leaveRunning ? ['--leave-running'] : []),
    ...(o.tcpEstablished ? ['--tcp-established'] : []),
    ...(o.extUnixSk ? ['--ext-unix-sk'] : []),
    ...(o.shellJob ? ['--shell-job'] : []),
    ...(o.fileLocks ? ['--file-locks'] : []),
  ];
}

/** Flags of `runc restore` (leaving a container running means nothing there). */
export function restoreFlags(o: CriuOptions): string[] {
  assertPassable(o);
  return [
    ...(o.tcpEstablished ? ['--tcp-established'] : []),
    ...(o.extUnixSk ? ['--ext-unix-sk'] : []),
    ...(o.shellJob ? ['--shell-job'] : []),
    ...(o.fileLocks ? ['--file-locks'] : []),
  ];
}

function assertPassable(o: CriuOptions): void {
  const refused = [
    ...(o.tcpClose ? ['--tcp-close'] : []),
    ...(o.linkRemap ? ['--link-remap'] : []),
    ...o.external.map((e) => `--external ${e}`),
    ...o.extraArgs,
  ];
  if (refused.length > 0) {
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `runc cannot pass ${refused.join(', ')} to CRIU`, {
      hint: 'runc passes --leave-running, --tcp-established, --ext-unix-sk, --shell-job and --file-locks; leave the others out',
    });
  }
}
