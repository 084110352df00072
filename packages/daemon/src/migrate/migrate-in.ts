/**
 * The target side of a migration. MigratePrepare answers, before the source freezes anything,
 * whether this daemon can take the job (the token was checked by the service; cedana version,
 * the type's plugins, a free JID, space in migrate.dir) and reserves a folder for it.
 * MigrateReceive writes the checkpoint's files into that folder as they come, then restores
 * it as a job through the ordinary restore (which checks every file's sha256 against
 * checkpoint.json before CRIU starts), and answers once the job runs. Whatever fails, the
 * folder is removed and no job is made.
 */
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { access, chmod, copyFile, rm, statfs } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  type BaseContext,
  CedanaError,
  type Config,
  checkName,
  HOST_VERSION,
  isCedanaError,
  type Logger,
  type PluginSource,
} from '@cedana/core';
import type { MigrateChunk, MigrateFile, MigratePage, MigratePrepareReq, MigratePrepareResp, RestoreResp } from '@cedana/core/proto';
import { readManifest } from '../checkpoint/manifest.js';
import type { JobManager } from '../jobs/job-manager.js';
import { requireRole } from '../plugins/resolver.js';
import { DataListener } from './data-link.js';
import { type FrameSink, readFrames } from './file-frames.js';
import { bootId, pidNamespace } from './host-identity.js';
import { incomingDir } from './migrate-dir.js';
import { joinRaw, type PageCall, PageSlot, relay } from './page-relay.js';

/** How long a prepared migration waits for its images before its folder is given up. */
const PREPARED_TTL_MS = 120_000;
/** One file name inside the checkpoint folder: no separator, no dot-dot, no hidden names. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
/** How many bytes of a file may wait for the disk before the sender is held. */
const WRITE_BUFFER = 8 << 20;
/** Where the job's log (its stdout) is held until the images are complete. */
const JOB_LOG_PART = '.job-log';

interface Prepared {
  id: string;
  jid: string;
  type: string;
  attachable: boolean;
  dir: string;
  timer: NodeJS.Timeout;
  /** Post-copy: where the lazy restore's `criu lazy-pages` attaches, for MigratePages to relay. */
  pages?: PageSlot;
  /** The data connection's listener, open until the migration ends. */
  data?: DataListener;
}

export class MigrationTarget {
  private readonly prepared = new Map<string, Prepared>();
  /** Post-copy migrations by ID, from MigratePrepare until their MigratePages call came (or they were dropped). */
  private readonly pageSlots = new Map<string, { slot: PageSlot; data?: DataListener }>();

  constructor(
    private readonly jobs: JobManager,
    private readonly plugins: PluginSource,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  async prepare(req: MigratePrepareReq): Promise<MigratePrepareResp> {
    const refuse = (why: string, hint?: string) =>
      new CedanaError('CEDANA_ERR_MIGRATE_REFUSED', `the target cannot take job "${req.jid}": ${why}`, { hint });
    if (major(req.cedanaVersion) !== major(HOST_VERSION))
      throw refuse(
        `it runs cedana ${HOST_VERSION}, the source ${req.cedanaVersion || 'an unknown version'}`,
        'run the same major version on both',
      );
    const jid = checkName('JID', req.jid);
    if (await this.jobs.get(jid).catch(() => undefined))
      throw refuse(`a job "${jid}" exists there already`, 'migrate with --target-jid NEW, or delete that job on the target');
    const missing = this.missingPlugin(req);
    if (missing) throw refuse(missing.message, missing.hint);
    const dir = await incomingDir(this.config);
    const s = await statfs(dir).catch(() => undefined);
    const free = s ? s.bavail * s.bsize : Number.POSITIVE_INFINITY;
    if (free < req.bytes) {
      await rm(dir, { recursive: true, force: true });
      throw refuse(
        `${this.config['migrate.dir']} has ${mib(free)} MiB free and the job has ${mib(req.bytes)} MiB of memory`,
        'make room there, or point migrate.dir at a bigger tmpfs',
      );
    }
    const id = randomBytes(12).toString('hex');
    const timer = setTimeout(() => void this.drop(id, 'no images came in time'), PREPARED_TTL_MS).unref();
    const pages = req.lazy ? new PageSlot() : undefined;
    const data = !this.config['migrate.data_connection']
      ? undefined
      : await DataListener.open(this.config, dir, req.lazy ? ['files', 'pages'] : ['files']).catch((err: Error) => {
          // Without it the bytes go over gRPC as before: slower, not refused.
          this.log.warn({ err: err.message }, 'no data connection for this migration: its bytes go over gRPC');
          return undefined;
        });
    this.prepared.set(id, { id, jid, type: req.type || 'process', attachable: req.attachable, dir, timer, pages, data });
    if (pages) this.pageSlots.set(id, { slot: pages, data });
    this.log.info({ id, jid, dir, data: data?.address }, 'migration prepared: waiting for the images');
    return {
      id,
      cedanaVersion: HOST_VERSION,
      bootId: await bootId(),
      pidNs: await pidNamespace(),
      dataAddress: data?.address ?? '',
      dataSecret: data?.secretHex ?? '',
    };
  }

  /**
   * Writes the incoming checkpoint (its bytes over the data connection when the source opened one,
   * else in the call's messages), then restores it; the folder goes whatever happens.
   */
  async receive(ctx: BaseContext, chunks: AsyncIterable<MigrateChunk>): Promise<RestoreResp> {
    let p: Prepared | undefined;
    let keepUntil: Promise<unknown> | undefined;
    let files: IncomingFiles | undefined;
    let overData: Promise<void> | undefined;
    let filesSocket: Socket | undefined;
    let dataError: Error | undefined;
    try {
      let done = false;
      let viaCall = false; // the files came in the call's messages (a source that could not open the data connection)
      for await (const chunk of chunks) {
        const part = chunk.part;
        if (!part) continue;
        if (part.$case === 'id') {
          p = this.take(part.value);
          files = new IncomingFiles(p.dir);
          const f = files;
          // The files channel, if the source opens it, carries the bytes from now on.
          overData = p.data?.channel('files').then((socket) => {
            filesSocket = socket;
            return readFrames(socket, f);
          });
          // Awaited at `done`; a failure before (a file it cannot write) ends the call now, with its reason.
          overData?.catch((err: Error) => {
            dataError = err;
            (chunks as Partial<Readable>).destroy?.(err);
          });
          continue;
        }
        if (!p || !files) throw invalid('the first message of MigrateReceive must name a prepared migration');
        if (part.$case === 'done') {
          done = true;
          break;
        }
        viaCall = true;
        if (!files.write(part.value, Buffer.from(part.value.data))) await files.drained();
      }
      if (!p || !files) throw invalid('MigrateReceive ended before naming a prepared migration');
      if (!done) throw invalid('the source stopped sending before the end of the checkpoint');
      if (!viaCall && overData) await overData;
      await files.close();
      this.log.debug(
        { bytes: files.bytes, ms: Math.round(performance.now() - files.first), via: viaCall ? 'gRPC' : 'data connection' },
        'received the checkpoint',
      );
      if (!p.pages) await p.data?.close(); // a post-copy's pages channel may still come
      const restored = await this.restore(ctx, p, files.logMode);
      // A lazy restore reads the folder (its pagemaps, the page files' digests) until the copy ends.
      keepUntil = p.pages?.current?.ended;
      return restored;
    } catch (err) {
      filesSocket?.destroy(); // a source still sending sees the end at once
      await files?.close().catch(() => {});
      throw dataError ?? err;
    } finally {
      if (p) {
        const dir = p.dir;
        this.pageSlots.delete(p.id); // its MigratePages call came, or will not be taken any more
        const data = p.data;
        // A post-copy's pages channel stays until the copy ends; the listener closes once it came.
        if (keepUntil) void keepUntil.finally(() => Promise.all([rm(dir, { recursive: true, force: true }), data?.close()]));
        else await Promise.all([rm(dir, { recursive: true, force: true }), data?.close()]);
      }
    }
  }

  private async restore(ctx: BaseContext, p: Prepared, logMode: number): Promise<RestoreResp> {
    // A job whose stdout is a file needs that file where it was (CRIU reopens it, same size): it
    // came along; a file already there (shared storage, one machine) is the same file and stays.
    // checkpoint.json's digests say nothing of it: it is the job's output, not an image.
    const logPart = join(p.dir, JOB_LOG_PART);
    if (await exists(logPart)) {
      const log = ((await readManifest(p.dir)).job as { log?: unknown } | undefined)?.log;
      if (typeof log === 'string' && isAbsolute(log) && !(await exists(log)) && (await exists(dirname(log)))) {
        await copyFile(logPart, log, constants.COPYFILE_EXCL);
        await chmod(log, logMode); // CRIU refuses a file whose mode changed
      }
      await rm(logPart, { force: true });
    }
    this.log.info({ jid: p.jid, dir: p.dir }, 'migration received: restoring');
    return this.jobs.restore(p.pages ? { ...ctx, pageChannel: p.pages } : ctx, {
      jid: p.jid,
      path: p.dir,
      checkpointId: '',
      type: p.type,
      attachable: p.attachable,
      log: '',
      criu: undefined,
      details: undefined,
      ...(p.pages ? { lazy: true } : {}),
    });
  }

  /**
   * MigratePages: the source's first message names a prepared post-copy migration; the call is
   * then joined to the socket of this host's `criu lazy-pages` once the lazy restore starts it.
   * A lazy-pages that ends closes the call; a call that ends first closes its socket (lazy-pages
   * then fails, and the restored process is killed: restore-lazy.ts).
   */
  async pages(call: PageCall): Promise<void> {
    const first = await new Promise<MigratePage | undefined>((resolve) => {
      call.once('data', (m: MigratePage) => {
        call.pause();
        resolve(m);
      });
      call.once('end', () => resolve(undefined));
      call.once('error', () => resolve(undefined));
    });
    const entry = first ? this.pageSlots.get(first.id) : undefined;
    if (!first || !entry) throw invalid(`MigratePages names no prepared post-copy migration ("${first?.id ?? ''}")`);
    this.pageSlots.delete(first.id);
    const ttl = new Promise<undefined>((resolve) => setTimeout(resolve, PREPARED_TTL_MS, undefined).unref());
    const attached = await Promise.race([entry.slot.attached, ttl]);
    if (!attached) throw invalid('the lazy restore never opened its page channel for this migration');
    if (first.overData) {
      // The bytes go over the data connection; this call only tells the source how the copy ended.
      const data = await Promise.race([entry.data?.channel('pages') ?? Promise.resolve(undefined), ttl]);
      if (!data) throw invalid('the source never opened the pages channel of the data connection');
      joinRaw(attached.socket, data, { onDataEnd: () => attached.socket.end() });
      call.on('data', () => {}); // nothing more comes on it
      call.resume();
      void attached.ended.then((e) => e.ok || data.destroy());
    } else relay(attached.socket, call, { onRemoteEnd: () => attached.socket.end() });
    // The status tells the source whether every page arrived (only then may it let its criu end).
    const end = await attached.ended;
    if (!end.ok) throw new CedanaError('CEDANA_ERR_MIGRATE_FAILED', `the target's lazy restore did not pull every page: ${end.why}`);
  }

  private take(id: string): Prepared {
    const p = this.prepared.get(id);
    if (!p) throw invalid(`no prepared migration "${id}" (it expired, was used, or the daemon restarted)`);
    this.prepared.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  private async drop(id: string, why: string): Promise<void> {
    const p = this.prepared.get(id);
    if (!p) return;
    this.prepared.delete(id);
    this.pageSlots.delete(id);
    await Promise.all([rm(p.dir, { recursive: true, force: true }), p.data?.close()]);
    this.log.warn({ id, jid: p.jid }, `prepared migration dropped: ${why}`);
  }

  /** What restoring the job here needs and this host lacks: its type's plugin, or the engine for processes, and the streams role. */
  private missingPlugin(req: MigratePrepareReq): CedanaError | undefined {
    const type = req.type || 'process';
    if (type !== 'process' && !this.plugins.plugins().some((p) => p.name === type && p.status === 'ok')) {
      return new CedanaError('CEDANA_ERR_UNSUPPORTED_TYPE', `its plugin "${type}" is not installed or did not load`, {
        hint: `install it there: \`cedana plugin install ${type}\``,
      });
    }
    try {
      if (type === 'process') requireRole(this.plugins, 'engine', 'restoring a process');
      if (req.streams > 0) requireRole(this.plugins, 'streams', `restoring a checkpoint of ${req.streams} streams`);
    } catch (err) {
      if (isCedanaError(err)) return err;
      throw err;
    }
    return undefined;
  }
}

/** The files of one incoming checkpoint, written 0600 into its folder as their bytes come (from the call or the data connection). */
class IncomingFiles implements FrameSink {
  /** A file comes in pieces, possibly between pieces of others (shards sent while they grow). */
  private readonly files = new Map<string, WriteStream>();
  private full?: WriteStream;
  logMode = 0o600;
  bytes = 0;
  first = 0;

  constructor(private readonly dir: string) {}

  write(f: Pick<MigrateFile, 'name' | 'jobLog' | 'mode'>, data: Buffer): boolean {
    const name = f.jobLog ? JOB_LOG_PART : f.name;
    if (f.jobLog) this.logMode = f.mode & 0o7777;
    if (!f.jobLog && !FILE_NAME.test(name)) throw invalid(`"${name}" is not one file name inside a checkpoint folder`);
    let w = this.files.get(name);
    if (!w) {
      // Room for what the socket reads while a write is under way (written as one writev): with
      // the default 16 KiB, the connection waited for the thread pool after every 64 KiB read.
      w = createWriteStream(join(this.dir, name), { flags: 'wx', mode: 0o600, highWaterMark: WRITE_BUFFER });
      w.on('error', () => {}); // surfaced by drained or close
      this.files.set(name, w);
    }
    if (w.destroyed) throw w.errored ?? new Error(`${String(w.path)} was closed`);
    this.first ||= performance.now();
    this.bytes += data.length;
    if (w.write(data)) return true;
    this.full = w;
    return false;
  }

  /** Waits for room in the file that was full; a file that failed (an open refused, a full tmpfs) fails the receive. */
  drained(): Promise<void> {
    const w = this.full;
    if (!w) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (w.destroyed) return reject(w.errored ?? new Error(`${String(w.path)} was closed`));
      const fail = (err: Error) => reject(err);
      w.once('error', fail);
      w.once('drain', () => {
        w.off('error', fail);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const open = [...this.files.values()];
    this.files.clear();
    await Promise.all(
      open.map((w) => new Promise<void>((resolve, reject) => w.end((err?: Error | null) => (err ? reject(err) : resolve())))),
    );
  }
}

function invalid(message: string): CedanaError {
  return new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', message);
}

function major(v: string): string {
  return (v || '').split('.')[0] ?? '';
}

function mib(n: number): number {
  return Math.round(n / 2 ** 20);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
