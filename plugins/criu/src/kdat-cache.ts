/**
 * CRIU's kernel-feature cache (kerndat) where /run is not a tmpfs.
 *
 * Every criu run probes the kernel first (~0.1 s here: iptables -L, ptrace and uffd probes)
 * unless it can load `/run/criu.kdat`. CRIU 4.2 (criu/kerndat.c) loads that file when its
 * size and two magics match (KDAT_MAGIC and KDAT_MAGIC_2, the build time of that criu
 * binary), and it checks nothing about the kernel or the boot: it relies on /run being a
 * tmpfs, and refuses to save the file anywhere else ("Can't keep kdat cache on
 * non-tempfs", leaving a `criu.kdat.tmp` behind). On a host whose /run is on disk every run
 * pays the probe.
 *
 * Here the criu binary itself writes the cache, in a private mount namespace whose /run is a
 * tmpfs (`unshare --mount` + `criu check`), and the bytes are moved to `/run/criu.kdat`.
 * What CRIU trusts to tmpfs (gone at reboot) is replaced by a stamp beside it that holds
 * /proc/sys/kernel/random/boot_id: a cache written under another boot (maybe another kernel)
 * is removed and probed again before the next criu run. A new criu binary changes
 * KDAT_MAGIC_2, and CRIU itself then drops the file as stale; it is written again the next
 * time it is missing. Any failure here only costs the probe: criu runs as before.
 */
import { execFile } from 'node:child_process';
import { readFile, rename, stat, statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The folder CRIU (built with the default RUNDIR) reads criu.kdat from when run as root. */
export const CRIU_RUN_DIR = '/run';
const TMPFS_MAGIC = 0x01021994;
/** criu/include/magic.h: the first 4 bytes of a kerndat cache. */
const KDAT_MAGIC = 0x57023458;
const BOOT_ID = '/proc/sys/kernel/random/boot_id';

/** What ensureKdatCache found or did, for logs and tests. */
export type KdatState =
  /** /run is a tmpfs: CRIU keeps its cache itself. */
  | 'tmpfs'
  /** A cache written under this boot is in place. */
  | 'kept'
  /** The cache was written now (none, or one from another boot, was there). */
  | 'written'
  /** It could not be written (no unshare, not root, criu failed): criu probes each run. */
  | 'failed';

export interface KdatPaths {
  /** Where criu.kdat and its stamp live; CRIU_RUN_DIR except in tests. */
  runDir: string;
  bootIdFile: string;
}

const DEFAULT_PATHS: KdatPaths = { runDir: CRIU_RUN_DIR, bootIdFile: BOOT_ID };

/** Boot ids a cache was checked under in this process, per folder and binary: a stat is then enough. */
const checked = new Map<string, string>();
/** Folders and binaries whose probe failed in this process: not tried again (it would cost each run more than it saves). */
const failed = new Set<string>();
const pending = new Map<string, Promise<KdatState>>();

/**
 * Makes sure the next `binary` run loads a kerndat cache made under this boot. Never throws.
 * Runs of it at the same time share one probe.
 */
export function ensureKdatCache(binary: string, paths: KdatPaths = DEFAULT_PATHS): Promise<KdatState> {
  const key = `${paths.runDir}\0${binary}`;
  if (failed.has(key)) return Promise.resolve('failed');
  let job = pending.get(key);
  if (!job) {
    job = ensure(binary, paths, key).finally(() => pending.delete(key));
    pending.set(key, job);
  }
  return job;
}

async function ensure(binary: string, paths: KdatPaths, key: string): Promise<KdatState> {
  try {
    const cache = join(paths.runDir, 'criu.kdat');
    const stampFile = join(paths.runDir, 'criu.kdat.boot_id');
    const bootId = (await readFile(paths.bootIdFile, 'utf8')).trim();
    if (checked.get(key) === bootId && (await isCache(cache))) return 'kept';
    if ((await statfs(paths.runDir)).type === TMPFS_MAGIC) return 'tmpfs';
    const stamp = await readFile(stampFile, 'utf8').catch(() => '');
    if (stamp.trim() === bootId && (await isCache(cache))) {
      checked.set(key, bootId);
      return 'kept';
    }
    await unlink(cache).catch(() => undefined);
    const bytes = await probe(binary);
    if (!bytes) {
      failed.add(key);
      return 'failed';
    }
    const tmp = `${cache}.cedana-${process.pid}`;
    await writeFile(tmp, bytes, { mode: 0o600 });
    await writeFile(stampFile, `${bootId}\n`, { mode: 0o600 });
    await rename(tmp, cache);
    checked.set(key, bootId);
    return 'written';
  } catch {
    failed.add(key);
    return 'failed';
  }
}

/** A file that starts with KDAT_MAGIC (CRIU checks the rest itself and drops a stale one). */
async function isCache(path: string): Promise<boolean> {
  try {
    if ((await stat(path)).size < 8) return false;
    const head = await readFile(path);
    return head.readUInt32LE(0) === KDAT_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Runs `criu check` with a private tmpfs on /run, where CRIU saves its cache, and returns
 * the cache's bytes (undefined when none was written). The namespace and its tmpfs go away
 * with the shell.
 */
async function probe(binary: string): Promise<Buffer | undefined> {
  const script = 'mount -t tmpfs -o size=1m,mode=0700 cedana-kdat /run && "$0" check >/dev/null 2>&1; exec cat /run/criu.kdat';
  try {
    const { stdout } = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, binary], {
      encoding: 'buffer',
      timeout: 30_000,
      maxBuffer: 1024 * 1024,
    });
    return stdout.length >= 8 && stdout.readUInt32LE(0) === KDAT_MAGIC ? stdout : undefined;
  } catch {
    return undefined;
  }
}
