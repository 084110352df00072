/**
 * The CRIU options a restore must repeat from its dump. CRIU acts on what its images hold
 * only when told again at restore: without --file-locks the locks are dropped (silently),
 * without --tcp-established a connected socket is refused, without --shell-job a process of
 * a shell's session cannot be restored, without --ext-unix-sk a socket with an outside peer
 * is refused, and an external bind mount needs to be told where it is now.
 *
 * The dump records them in checkpoint.json under `criuOptions` (recordCriuOptions); the
 * restore takes them as its defaults, and the request's own options win (repeatCriuOptions).
 */
import type { CriuOptions, ManifestFacts, RecordedCriuOptions } from '@cedana/core';

export type { RecordedCriuOptions };

/**
 * How each repeated option becomes the restore's: `same`, the same boolean flag again;
 * `mounts`, the external bind mounts `mnt[PATH]:KEY` of the dump as `mnt[KEY]:PATH` (the
 * mount goes back where it was; other kinds of --external are not repeated: file[] and tty[]
 * come back through --inherit-fd, unix[] and dev[] mean nothing at restore).
 * Options not listed (leave-running, tcp-close, link-remap) act at the dump only, or are
 * the restore's own choice.
 */
export const REPEATED_AT_RESTORE = {
  tcpEstablished: 'same',
  fileLocks: 'same',
  shellJob: 'same',
  extUnixSk: 'same',
  external: 'mounts',
} as const satisfies Record<keyof RecordedCriuOptions, 'same' | 'mounts'>;

type Repeated = keyof typeof REPEATED_AT_RESTORE;
type RepeatedFlag = { [K in Repeated]: (typeof REPEATED_AT_RESTORE)[K] extends 'same' ? K : never }[Repeated];

const FLAGS = (Object.keys(REPEATED_AT_RESTORE) as Repeated[]).filter((k): k is RepeatedFlag => REPEATED_AT_RESTORE[k] === 'same');

/** An external bind mount: `mnt[PATH]:KEY` at dump, `mnt[KEY]:PATH` at restore. */
export const EXTERNAL_MOUNT = /^mnt\[([^\]]+)\]:(.+)$/;

/** What a dump with `opts` records for its restore: the repeated flags that are on, and the external mounts. */
export function recordCriuOptions(opts: CriuOptions): RecordedCriuOptions {
  const recorded: RecordedCriuOptions = {};
  for (const key of FLAGS) if (opts[key]) recorded[key] = true;
  const mounts = opts.external.filter((e) => EXTERNAL_MOUNT.test(e));
  if (mounts.length > 0) recorded.external = mounts;
  return recorded;
}

/**
 * The recorded options of a checkpoint. A checkpoint made before `criuOptions` existed has
 * `tcpEstablished` and `shellJob` as top-level facts: those are read instead.
 */
export function recordedCriuOptions(manifest: ManifestFacts): RecordedCriuOptions {
  const section: unknown = manifest.criuOptions;
  if (typeof section !== 'object' || section === null) {
    const legacy: RecordedCriuOptions = {};
    if (manifest.tcpEstablished === true) legacy.tcpEstablished = true;
    if (manifest.shellJob === true) legacy.shellJob = true;
    return legacy;
  }
  const s = section as Record<string, unknown>;
  const recorded: RecordedCriuOptions = {};
  for (const key of FLAGS) if (s[key] === true) recorded[key] = true;
  if (Array.isArray(s.external)) recorded.external = s.external.filter((e): e is string => typeof e === 'string' && EXTERNAL_MOUNT.test(e));
  return recorded;
}

/**
 * Applies the recorded options to a restore's `criu` options. What the request gave wins:
 * a flag it set (true or false, e.g. `--no-file-locks`) stays as it is; a recorded flag the
 * request left out is turned on. A recorded mount is added as `mnt[KEY]:PATH` unless the
 * request maps the same KEY itself. Options the request adds (--tcp-close, ...) are kept.
 * Returns the flags and mounts it added, for the log.
 */
export function repeatCriuOptions(criu: CriuOptions, given: Partial<CriuOptions> | undefined, recorded: RecordedCriuOptions): string[] {
  const added: string[] = [];
  for (const key of FLAGS) {
    if (recorded[key] && given?.[key] === undefined && !criu[key]) {
      criu[key] = true;
      added.push(key);
    }
  }
  const mappedKeys = new Set(criu.external.map((e) => EXTERNAL_MOUNT.exec(e)?.[1]).filter(Boolean));
  for (const dumped of recorded.external ?? []) {
    const [, path, key] = EXTERNAL_MOUNT.exec(dumped) as RegExpExecArray;
    if (mappedKeys.has(key)) continue;
    criu.external.push(`mnt[${key}]:${path}`);
    added.push(`external mnt[${key}]:${path}`);
  }
  return added;
}
