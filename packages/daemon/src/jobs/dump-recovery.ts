/**
 * On daemon start, before it serves: every dump the journal (dump-journal.ts) says did not
 * end is finished or undone, so that a daemon killed during a dump loses nothing.
 *
 *   1. wait while CRIU (or runc, or a streamer) still works on the dump's folder, or still
 *      traces its process: killing it could kill the process, so it is left to end;
 *   2. look: is the dumped process alive (same PID and start time), is the checkpoint
 *      complete on disk, did CRIU say the images are complete;
 *   3. decideRecovery() says what to do, and it is done: register the checkpoint, finish
 *      it (checkpoint.json, pack, register), or thaw the process and remove the leftovers.
 */
import { access, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@cedana/core';
import { fromFormat1, isAlive, processStartTime } from '@cedana/core';
import { Checkpoint } from '@cedana/core/proto';
import { checkpointSize, packCheckpoint } from '../checkpoint/archive.js';
import { type ArchiveCompression, archivePath, CODECS } from '../checkpoint/codecs.js';
import { MANIFEST_FILE, type ManifestDraft, writeManifest } from '../checkpoint/manifest.js';
import { makePrivate } from '../checkpoint/private-modes.js';
import { continueStoppedTree, processesNaming, tracerOf } from '../process/tree.js';
import type { Store } from '../store/store.js';
import type { DumpJournal, DumpRecord } from './dump-journal.js';

/** CRIU's log in the images folder (the criu plugin's `-o dump.log`; runc's default name too), and its last word on success. */
const CRIU_DUMP_LOG = 'dump.log';
const CRIU_DUMP_DONE = 'Dumping finished successfully';
/** How long recovery waits for a CRIU that still works on a dump before it leaves that dump for the next start. */
const DUMPER_WAIT_MS = 120_000;
const POLL_MS = 200;

/** What recovery sees of an interrupted dump. */
export interface DumpFindings {
  /** The dumped process (same PID, same start time) still exists, running or stopped. */
  alive: boolean;
  /** The checkpoint is complete on disk: its archive was renamed into place, or its folder has checkpoint.json. */
  checkpointComplete: boolean;
  /** CRIU's log says the images are complete. */
  imagesComplete: boolean;
}

export type RecoveryAction =
  /** The checkpoint is complete: register it (and continue the process if it lives). */
  | { action: 'register' }
  /** The images are complete and the process is gone: write checkpoint.json, pack, register. */
  | { action: 'finish' }
  /** The process lives: continue it if it is stopped, remove the partial checkpoint. */
  | { action: 'thaw' }
  /** The images are incomplete and the process is gone: nothing can come of them. */
  | { action: 'discard' }
  /** The images may be the only copy of the process but cannot be made a checkpoint here: they stay. */
  | { action: 'keep'; why: string };

export function decideRecovery(r: DumpRecord, f: DumpFindings): RecoveryAction {
  if (f.checkpointComplete && r.phase !== 'started') return { action: 'register' };
  if (f.alive) return { action: 'thaw' };
  if (r.phase === 'images-done') return { action: 'finish' };
  if (r.phase === 'started' && f.imagesComplete) {
    // A plain process dump's facts are all known before CRIU runs; a plugin's (a runtime's, the streams plugin's) come after.
    if (r.type === 'process' && r.streams === 0) return { action: 'finish' };
    return {
      action: 'keep',
      why: `the ${r.streams > 0 ? 'plugin in the streams role' : `${r.type} plugin`} had not recorded its part of checkpoint.json`,
    };
  }
  return { action: 'discard' };
}

export interface RecoveryDeps {
  store: Store;
  journal: DumpJournal;
  log: Logger;
}

/** Finishes or undoes every interrupted dump; returns what was done, one line per dump. */
export async function recoverInterruptedDumps({ store, journal, log }: RecoveryDeps): Promise<string[]> {
  const done: string[] = [];
  for (const r of await journal.list()) {
    const rlog = log.child({ dump: r.id, jid: r.jid || undefined, pid: r.pid, dir: r.dir, phase: r.phase });
    if (!(await dumperGone(r))) {
      rlog.warn('an interrupted dump is still being worked on (CRIU or a runtime names its folder): left for the next start');
      continue;
    }
    const findings = await look(r);
    const decision = decideRecovery(r, findings);
    rlog.info({ ...findings, action: decision.action }, 'recovering an interrupted dump');
    try {
      done.push(await apply(r, decision, findings, store, rlog));
      await journal.drop(r.id);
    } catch (err) {
      rlog.error({ err }, 'recovering an interrupted dump failed: left for the next start');
    }
  }
  return done;
}

async function apply(r: DumpRecord, d: RecoveryAction, f: DumpFindings, store: Store, log: Logger): Promise<string> {
  const what = `dump ${r.id}${r.jid ? ` of job ${r.jid}` : ''}`;
  switch (d.action) {
    case 'register': {
      if (f.alive) await continueStoppedTree(r.pid);
      await register(store, r, await completeCheckpoint(r), f.alive);
      return `${what}: registered its complete checkpoint`;
    }
    case 'finish': {
      await register(store, r, await finish(r, log), false);
      return `${what}: finished its checkpoint from the complete images`;
    }
    case 'thaw': {
      const continued = await continueStoppedTree(r.pid);
      await removeLeftovers(r);
      return `${what}: the process lives (continued ${continued.length} stopped), removed the partial checkpoint`;
    }
    case 'discard':
      await removeLeftovers(r);
      return `${what}: the images were incomplete and the process is gone; removed them`;
    case 'keep':
      log.error({ why: d.why }, `the images of an interrupted dump stay in ${r.dir}: they may be the only copy of the process`);
      return `${what}: kept the images in ${r.dir} (${d.why})`;
  }
}

/** False when something still works on the dump after DUMPER_WAIT_MS. */
async function dumperGone(r: DumpRecord): Promise<boolean> {
  const deadline = Date.now() + DUMPER_WAIT_MS;
  for (;;) {
    const working = (await processesNaming(r.dir)).length > 0 || (r.pid > 0 && ((await tracerOf(r.pid)) ?? 0) > 0);
    if (!working) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function look(r: DumpRecord): Promise<DumpFindings> {
  const ticks = r.pid > 0 ? await processStartTime(r.pid) : undefined;
  const alive = ticks !== undefined && (!r.startTicks || ticks === r.startTicks) && (await isAlive(r.pid));
  const log = await readFile(join(r.dir, CRIU_DUMP_LOG), 'utf8').catch(() => '');
  return { alive, checkpointComplete: await exists(checkpointPath(r)), imagesComplete: log.includes(CRIU_DUMP_DONE) };
}

/** Where the complete checkpoint is: the archive, or checkpoint.json in the folder ('none', streams). */
function checkpointPath(r: DumpRecord): string {
  if (r.checkpoint) return r.checkpoint.path;
  const packed = r.streams === 0 && r.compression in CODECS;
  return packed ? archivePath(r.dir, r.compression as ArchiveCompression) : join(r.dir, MANIFEST_FILE);
}

/** The checkpoint record of a complete checkpoint: the one the dump made, or one made from the record and the file. */
async function completeCheckpoint(r: DumpRecord): Promise<Checkpoint> {
  if (r.checkpoint) return r.checkpoint;
  const path = checkpointPath(r);
  if (path.endsWith(MANIFEST_FILE)) return checkpointOf(r, r.dir, await checkpointSize(r.dir), r.streams > 0 ? 'lz4' : 'none');
  await rm(r.dir, { recursive: true, force: true }); // packed; the dump was about to remove it
  return checkpointOf(r, path, (await stat(path)).size, r.compression);
}

/** Packs the complete images as the dump would have (uncompressed when that fails: the images are the only copy). */
async function finish(r: DumpRecord, log: Logger): Promise<Checkpoint> {
  // A journal of a daemon from before format 2 holds its facts in format 1's layout.
  const { fileDigests } = r.facts;
  const facts: ManifestDraft = { ...fromFormat1(r.facts), ...(fileDigests && { fileDigests }), pid: r.pid, recovered: true };
  await makePrivate(r.dir); // the dump was killed before it made CRIU's files 0600
  if (r.streams > 0 || !(r.compression in CODECS)) {
    await writeManifest(r.dir, facts);
    return checkpointOf(r, r.dir, await checkpointSize(r.dir), r.streams > 0 ? 'lz4' : 'none');
  }
  await rm(`${archivePath(r.dir, r.compression as ArchiveCompression)}.partial`, { force: true });
  try {
    const packed = await packCheckpoint(r.dir, r.compression as ArchiveCompression, { manifest: facts });
    return checkpointOf(r, packed.path, packed.size, r.compression);
  } catch (err) {
    log.error({ err }, `packing the recovered checkpoint with ${r.compression} failed; keeping the images uncompressed`);
    await writeManifest(r.dir, { ...facts, compression: 'none' });
    return checkpointOf(r, r.dir, await checkpointSize(r.dir), 'none');
  }
}

/** The checkpoint in the store; the job (if any) knows it, and is checkpointed unless its process lives. */
async function register(store: Store, r: DumpRecord, c: Checkpoint, alive: boolean): Promise<void> {
  await store.putCheckpoint(c);
  if (!r.jid) return;
  const job = await store.getJob(r.jid);
  if (!job) return;
  job.lastCheckpoint = c;
  if (!alive && job.state?.status === 'running') job.state.status = 'checkpointed';
  await store.putJob(job);
}

/** The partial checkpoint: the folder and a half-written archive. Never a complete one. */
async function removeLeftovers(r: DumpRecord): Promise<void> {
  await rm(r.dir, { recursive: true, force: true });
  if (r.compression in CODECS) await rm(`${archivePath(r.dir, r.compression as ArchiveCompression)}.partial`, { force: true });
}

function checkpointOf(r: DumpRecord, path: string, size: number, compression: string): Checkpoint {
  return Checkpoint.create({
    id: r.id,
    jid: r.jid,
    type: r.type,
    path,
    compression,
    size,
    createdAt: r.createdAt ?? new Date().toISOString(),
    pid: r.pid,
    streams: r.streams,
  });
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
