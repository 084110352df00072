/**
 * The CRIU flags of `dump` and `restore`: only those the user gave go into CriuOpts (the
 * rest take the config's defaults at a dump, and the dump's recorded options at a restore).
 */
import type { CriuOpts } from '@cedana/core/proto';
import type { Argv, Options } from 'yargs';

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

type Stage = 'dump' | 'restore';

/** Each flag with its help at the stages it exists for (a flag without `restore` is the dump's only). */
const CRIU_FLAGS: Record<string, Partial<Record<Stage, string>>> = {
  'leave-running': { dump: 'keep the process running after the dump' },
  'tcp-established': {
    dump: 'checkpoint established TCP connections',
    restore: 'restore established TCP connections (default: as the dump had it)',
  },
  'tcp-close': { dump: 'close established TCP connections on restore', restore: 'restore established TCP connections closed' },
  'file-locks': { dump: 'checkpoint file locks', restore: 'restore file locks (default: as the dump had it)' },
  'shell-job': {
    dump: 'the process was started from a shell (shares its session and terminal)',
    restore: 'restore a process of a shell session (default: as the dump had it)',
  },
  'ext-unix-sk': {
    dump: 'allow external unix sockets',
    restore: 'allow external unix sockets (default: as the dump had it)',
  },
  'link-remap': { dump: 'allow open files that were deleted or linked elsewhere' },
  external: {
    dump: 'external resource for CRIU (--external), repeatable',
    restore: "external resource for CRIU (--external), repeatable; the dump's mnt[PATH]:KEY come back as mnt[KEY]:PATH",
  },
};

const GROUP = 'CRIU options:';

/** The CRIU flags of `stage`, under their own heading in --help. */
export function criuOptions(y: Argv, stage: Stage = 'dump'): Argv {
  const flags = Object.entries(CRIU_FLAGS).filter(([, help]) => help[stage] !== undefined);
  for (const [name, help] of flags) y = y.option(name, flagSpec(name, help[stage] as string));
  return y.group(
    flags.map(([name]) => name),
    GROUP,
  );
}

function flagSpec(name: string, describe: string): Options {
  return name === 'external' ? { type: 'string', array: true, nargs: 1, describe } : { type: 'boolean', describe };
}

/** The flags `restore` takes (`restore job` has them of its own: plugins never redefine them). */
export const RESTORE_CRIU_FLAGS: readonly string[] = Object.keys(CRIU_FLAGS).filter((name) => CRIU_FLAGS[name]?.restore);

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
