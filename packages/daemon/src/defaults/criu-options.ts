import type { Config, CriuOptions } from '@cedana/core';
import type { CriuOpts } from '@cedana/core/proto';

/** CRIU options of a request: what the client set, else the config's default. */
export function criuOptionsFrom(opts: CriuOpts | undefined, config: Config): CriuOptions {
  return {
    leaveRunning: opts?.leaveRunning ?? config['criu.leave_running'],
    tcpEstablished: opts?.tcpEstablished ?? false,
    tcpClose: opts?.tcpClose ?? false,
    fileLocks: opts?.fileLocks ?? false,
    shellJob: opts?.shellJob ?? false,
    extUnixSk: opts?.extUnixSk ?? false,
    linkRemap: opts?.linkRemap ?? false,
    external: [...(opts?.external ?? [])],
    extraArgs: [],
  };
}
