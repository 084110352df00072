/**
 * CRIU's dump.log of a failed dump outlives the partial checkpoint: the folder is removed,
 * the log is copied to `<log.dir>/failed-dumps/` (0700, files 0600) first, and the error
 * names the copy. Only the newest KEEP_FAILED_DUMP_LOGS stay.
 */
import { chmod, copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isCedanaError, type Logger } from '@cedana/core';

/** What CRIU (through the criu, runc or containerd plugin) writes into the images folder. */
const DUMP_LOG = 'dump.log';
export const FAILED_DUMPS_DIR = 'failed-dumps';
export const KEEP_FAILED_DUMP_LOGS = 20;

/**
 * Copies `imagesDir/dump.log` to the log folder before `imagesDir` goes, and points `err` at
 * the copy: its message and details say the kept path instead of the one about to vanish,
 * and a `(full log: PATH)` line is added where none named it. Never throws: a log that
 * cannot be kept leaves the error as it was.
 */
export async function keepFailedDumpLog(
  err: unknown,
  imagesDir: string,
  logDir: string,
  id: string,
  log: Logger,
): Promise<string | undefined> {
  const from = join(imagesDir, DUMP_LOG);
  const folder = join(logDir, FAILED_DUMPS_DIR);
  const kept = join(folder, `${basename(imagesDir)}-${id}.${DUMP_LOG}`);
  try {
    if (!(await stat(from).catch(() => undefined))?.isFile()) return undefined;
    await mkdir(folder, { recursive: true, mode: 0o700 });
    await chmod(folder, 0o700); // also when an older folder was made with other modes
    await copyFile(from, kept);
    await chmod(kept, 0o600);
  } catch (e) {
    log.warn({ err: e, from, to: kept }, 'could not keep the log of the failed dump');
    return undefined;
  }
  if (isCedanaError(err)) {
    err.message = err.message.replaceAll(from, kept);
    for (let i = 0; i < err.details.length; i++) err.details[i] = (err.details[i] as string).replaceAll(from, kept);
    if (!err.details.some((l) => l.includes(kept))) err.details.push(`(full log: ${kept})`);
  }
  await pruneFailedDumpLogs(folder, log);
  return kept;
}

/** Removes all but the newest KEEP_FAILED_DUMP_LOGS logs of the folder. */
async function pruneFailedDumpLogs(folder: string, log: Logger): Promise<void> {
  const names = await readdir(folder).catch(() => [] as string[]);
  if (names.length <= KEEP_FAILED_DUMP_LOGS) return;
  const dated = await Promise.all(
    names.map(async (name) => ({ name, mtime: (await stat(join(folder, name)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  dated.sort((a, b) => b.mtime - a.mtime || b.name.localeCompare(a.name));
  for (const { name } of dated.slice(KEEP_FAILED_DUMP_LOGS)) {
    await rm(join(folder, name), { force: true }).catch((e: unknown) => log.warn({ err: e, name }, 'could not prune an old dump log'));
  }
}
