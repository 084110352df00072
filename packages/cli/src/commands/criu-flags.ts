/** The CRIU flags of `dump`: only those the user gave go into CriuOpts (the rest take config defaults). */
import type { CriuOpts } from '@cedana/core/proto';
import type { Argv } from 'yargs';

export interface CriuArgs {
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  tcpClose?: boolean;
  fileLocks?: boolean;
  shellJob?: boolean;
  extUnixSk?: boolean;
  linkRemap?: boolean;
  external?: string[];
}

export function criuOptions(y: Argv): Argv {
  return y
    .option('leave-running', { type: 'boolean', describe: 'keep the process running after the dump' })
    .option('tcp-established', { type: 'boolean', describe: 'checkpoint established TCP connections' })
    .option('tcp-close', { type: 'boolean', describe: 'close established TCP connections on restore' })
    .option('file-locks', { type: 'boolean', describe: 'checkpoint file locks' })
    .option('shell-job', { type: 'boolean', describe: 'the process was started from a shell (shares its session and terminal)' })
    .option('ext-unix-sk', { type: 'boolean', describe: 'allow external unix sockets' })
    .option('link-remap', { type: 'boolean', describe: 'allow open files that were deleted or linked elsewhere' })
    .option('external', { type: 'string', array: true, nargs: 1, describe: 'external resource for CRIU (--external), repeatable' })
    .group(
      ['leave-running', 'tcp-established', 'tcp-close', 'file-locks', 'shell-job', 'ext-unix-sk', 'link-remap', 'external'],
      'CRIU options:',
    );
}

/** CriuOpts holding only the flags that were given; undefined when none was. */
export function criuOpts(argv: CriuArgs): CriuOpts | undefined {
  const opts: CriuOpts = { external: (argv.external ?? []).map(String) };
  const set = <K extends keyof CriuOpts>(key: K, value: CriuOpts[K] | undefined) => {
    if (value !== undefined) opts[key] = value;
  };
  set('leaveRunning', argv.leaveRunning);
  set('tcpEstablished', argv.tcpEstablished);
  set('tcpClose', argv.tcpClose);
  set('fileLocks', argv.fileLocks);
  set('shellJob', argv.shellJob);
  set('extUnixSk', argv.extUnixSk);
  set('linkRemap', argv.linkRemap);
  return Object.keys(opts).length === 1 && opts.external.length === 0 ? undefined : opts;
}
