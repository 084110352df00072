/** CriuOptions (gathered by the pipelines' adapters) as criu command-line flags. */
import type { CriuOptions } from '@cedana/plugin-sdk';

/** Which criu command the flags are for: some options exist only for one of them. */
export type CriuStage = 'dump' | 'restore';

const BOOLEAN_FLAGS = [
  ['leaveRunning', '--leave-running', ['dump']],
  ['tcpEstablished', '--tcp-established', ['dump', 'restore']],
  ['tcpClose', '--tcp-close', ['dump', 'restore']],
  ['fileLocks', '--file-locks', ['dump', 'restore']],
  ['shellJob', '--shell-job', ['dump', 'restore']],
  ['extUnixSk', '--ext-unix-sk', ['dump', 'restore']],
  ['linkRemap', '--link-remap', ['dump', 'restore']],
] as const satisfies readonly (readonly [keyof CriuOptions, string, readonly CriuStage[]])[];

/**
 * The flags for `opts` at `stage`: the boolean options in a fixed order, then
 * `--external X` for each external, then `extraArgs` as given.
 */
export function criuFlags(opts: Partial<CriuOptions> | undefined, stage: CriuStage): string[] {
  if (!opts) return [];
  const flags: string[] = [];
  for (const [key, flag, stages] of BOOLEAN_FLAGS) {
    if (opts[key] === true && (stages as readonly CriuStage[]).includes(stage)) flags.push(flag);
  }
  for (const ext of opts.external ?? []) flags.push('--external', ext);
  flags.push(...(opts.extraArgs ?? []));
  return flags;
}
