/** CRIU options as the runc shim's CheckpointOptions; what the shim cannot pass is refused, not dropped. */
import { CedanaError, type CriuOptions } from '@cedana/plugin-sdk';
import { CheckpointOptions } from './proto/gen/containerd/runc/options.js';

export function checkpointOptions(o: CriuOptions, imagePath: string, workPath: string): CheckpointOptions {
  const refused = [
    ...(o.tcpClose ? ['--tcp-close'] : []),
    ...(o.linkRemap ? ['--link-remap'] : []),
    ...(o.shellJob ? ['--shell-job'] : []),
    ...o.external.map((e) => `--external ${e}`),
    ...o.extraArgs,
  ];
  if (refused.length > 0) {
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `containerd's runc shim cannot pass ${refused.join(', ')} to CRIU`, {
      hint: 'it passes --leave-running, --tcp-established, --ext-unix-sk and --file-locks; leave the others out',
    });
  }
  return CheckpointOptions.fromPartial({
    exit: !o.leaveRunning,
    openTcp: o.tcpEstablished,
    externalUnixSockets: o.extUnixSk,
    fileLocks: o.fileLocks,
    imagePath,
    workPath,
  });
}

/**
 * The runc shim restores with no CRIU options of its own (containerd's `createCheckpointedState`
 * sets none), but runc hands CRIU the config file that the container's `org.criu.config`
 * annotation names, whose settings CRIU takes over its RPC options. So the options a restore
 * repeats (file locks, TCP connections, ...) go there: these are its lines, one option each,
 * empty when there is nothing to pass. External resources cannot be passed: refused.
 */
export function restoreCriuConfig(o: CriuOptions): string[] {
  const refused = [...o.external.map((e) => `--external ${e}`), ...o.extraArgs];
  if (refused.length > 0) {
    throw new CedanaError(
      'CEDANA_ERR_INVALID_ARGUMENT',
      `a restore through containerd's runc shim cannot pass ${refused.join(', ')} to CRIU`,
      {
        hint: 'it passes --tcp-established, --tcp-close, --ext-unix-sk, --shell-job and --file-locks; leave the others out',
      },
    );
  }
  return [
    ...(o.tcpEstablished ? ['tcp-established'] : []),
    ...(o.tcpClose ? ['tcp-close'] : []),
    ...(o.extUnixSk ? ['ext-unix-sk'] : []),
    ...(o.shellJob ? ['shell-job'] : []),
    ...(o.fileLocks ? ['file-locks'] : []),
  ];
}
