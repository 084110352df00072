/**
 * CRIU's kernel-feature cache (kerndat) where /run is not a tmpfs.
 *
 * Every criu run probes the kernel first (~0.1 s here: iptables -L, ptrace, uffd and mount
 * probes) unless it can load `/run/criu.kdat`. CRIU 4.2 (criu/kerndat.c) loads that file when
 * its size and two magics match (KDAT_MAGIC, and KDAT_MAGIC_2: the build time of that criu
 * binary), and checks nothing about the kernel or the boot: it relies on /run being a tmpfs,
 * gone at reboot, and refuses to save the file anywhere else ("Can't keep kdat cache on
 * non-tempfs", leaving a `criu.kdat.tmp` behind). On a host whose /run is on disk every run
 * pays the probe.
 *
 * Here the criu binary itself writes the cache, in a private mount namespace whose /run is a
 * tmpfs (`unshare --mount` + `criu check`). The bytes are kept on a tmpfs that is there anyway
 * (/dev/shm, in a root-only folder, one file per criu binary), and `/run/criu.kdat` is a symlink to them, which CRIU's
 * open() follows: a reboot empties the tmpfs, the link then leads nowhere and CRIU probes, as
 * CRIU intends; nothing from another boot (maybe another kernel) is ever loaded. A new criu
 * binary finds the file stale (KDAT_MAGIC_2) and unlinks the link; it is made again before the
 * next run. Any failure here only costs the probe: criu runs as before.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readlink, rename, stat, statfs, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cleanExec } from '@cedana/plugin-sdk';

const run = promisify(execFile);

const TMPFS_MAGIC = 0x01021994;
/** criu/include/magic.h: the first 4 bytes of a kerndat cache. */
const KDAT_MAGIC = 0x57023458;
/** The file criu loads from its RUNDIR. */
const CACHE_NAME = 'criu.kdat';

export interface KdatPaths {
  /** The folder CRIU (built with the default RUNDIR) reads criu.kdat from when run as root. */
  runDir: string;
  /** A root-only folder on a tmpfs where the cache's bytes are kept. */
  storeDir: string;
}

const DEFAULT_PATHS: KdatPaths = { runDir: '/run', storeDir: '/dev/shm/cedana-criu-kdat' };

/** What ensureKdatCache found or did, for logs and tests. */
export type KdatState =
  /** /run is a tmpfs: CRIU keeps its cache itself. */
  | 'tmpfs'
  /** The link and the cache of this boot are in place. */
  | 'kept'
  /** The cache was written now (none yet in this boot, or CRIU dropped it). */
  | 'written'
  /** It could not be kept (no unshare, not root, no tmpfs, a store folder not root's alone): criu probes each run. */
  | 'failed';

/** Folders and binaries whose cache could not be kept, in this process: not tried again (each try costs more than it saves). */
const failed = new Set<string>();
const pending = new Map<string, Promise<KdatState>>();

/**
 * Makes sure the next `binary` run loads a kerndat cache made in this boot. Never throws.
 * Calls at the same time share one probe.
 */
export function ensureKdatCache(binary: string, paths: KdatPaths = DEFAULT_PATHS): Promise<KdatState> {
  const key = `${paths.runDir}\0${paths.storeDir}\0${binary}`;
  if (failed.has(key)) return Promise.resolve('failed');
  let job = pending.get(key);
  if (!job) {
    job = ensure(binary, paths)
      .catch((): KdatState => 'failed')
      .then((state) => {
        if (state === 'failed') failed.add(key);
        return state;
      })
      .finally(() => pending.delete(key));
    pending.set(key, job);
  }
  return job;
}

async function ensure(binary: string, paths: KdatPaths): Promise<KdatState> {
  const link = join(paths.runDir, CACHE_NAME);
  const cache = join(paths.storeDir, await cacheName(binary));
  if ((await readlink(link).catch(() => undefined)) === cache && (await isCache(cache))) return 'kept';
  if ((await statfs(paths.runDir)).type === TMPFS_MAGIC) return 'tmpfs';
  if (!(await isPrivateTmpfsFolder(paths.storeDir))) return 'failed';
  let state: KdatState = 'kept';
  if (!(await isCache(cache))) {
    const bytes = await probe(binary);
    if (!bytes) return 'failed';
    const tmp = `${cache}.${process.pid}`;
    await writeFile(tmp, bytes, { mode: 0o600 });
    await rename(tmp, cache);
    state = 'written';
  }
  // Whatever is at /run/criu.kdat (a link CRIU left dangling, a file of an older cedana) is replaced in one rename.
  const tmpLink = `${link}.cedana-${process.pid}`;
  await unlink(tmpLink).catch(() => undefined);
  await symlink(cache, tmpLink);
  await rename(tmpLink, link);
  return state;
}

/**
 * One cache per criu binary (path, size, mtime): a new binary's KDAT_MAGIC_2 differs, so the
 * cache of the old one would be found stale by it, dropped, and linked again at each run.
 */
async function cacheName(binary: string): Promise<string> {
  const st = await stat(binary);
  return `${createHash('sha256').update(`${binary}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 16)}.kdat`;
}

/**
 * The store folder, made if missing: on a tmpfs, a real folder (not a link) owned by this
 * user and closed to everyone else, so nobody else can put a cache there for root's criu.
 */
async function isPrivateTmpfsFolder(dir: string): Promise<boolean> {
  await mkdir(dir, { mode: 0o700 }).catch(() => undefined);
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0) return false;
  return (await statfs(dir)).type === TMPFS_MAGIC;
}

/** A regular file that starts with KDAT_MAGIC (CRIU checks the rest itself and drops a stale one). */
async function isCache(path: string): Promise<boolean> {
  try {
    if (!(await lstat(path)).isFile()) return false;
    const bytes = await readFile(path);
    return bytes.length >= 8 && bytes.readUInt32LE(0) === KDAT_MAGIC;
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
    // cleanExec: criu must not inherit the daemon's fds (its LevelDB files among them).
    const clean = cleanExec('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, binary]);
    const { stdout } = await run(clean.file, clean.args, {
      encoding: 'buffer',
      timeout: 30_000,
      maxBuffer: 1024 * 1024,
    });
    return stdout.length >= 8 && stdout.readUInt32LE(0) === KDAT_MAGIC ? stdout : undefined;
  } catch {
    return undefined;
  }
}
