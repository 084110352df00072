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
