/**
 * Managed jobs: the job side of every request (run, manage, dump job, restore job, kill,
 * delete, attach), in order. Beside it: job-records.ts (the store's records), job-locks.ts
 * (one CRIU run per job, one dump per PID), exit-files.ts (exit statuses left for a
 * restarted daemon), request-targets.ts (the job a dump or restore names), reattach.ts (jobs
 * after a daemon restart), type-hooks.ts (a type plugin's kill signal and cleanup).
 */
import {
  type BaseContext,
  CedanaError,
  checkName,
  contextSlots,
  type DumpContext,
  type ExitStatus,
  fileNameFor,
  type Logger,
  type Measured,
  type PluginSource,
  processStartTime,
  type RestoreContext,
  type Started,
  signalName,
  signalNumber,
  unreadManifest,
} from '@cedana/core';
import {
  CheckpointStats,
  type DumpReq,
  DumpResp,
  Job,
  type KillReq,
  type ListReq,
  type ManageReq,
  ManageResp,
  type RestoreReq,
  RestoreResp,
  type RunReq,
  RunResp,
} from '@cedana/core/proto';
import { criuOptionsFrom } from '../defaults/criu-options.js';
import { dumpPipeline } from '../pipelines/dump.js';
import { manageHandler } from '../pipelines/manage.js';
import { restorePipeline } from '../pipelines/restore.js';
import { runPipeline } from '../pipelines/run.js';
import { refuseDaemonHelper } from '../process/protected-pids.js';
import { watchProcess } from '../process/watch.js';
import type { Store } from '../store/store.js';
import { type DumpIntent, DumpJournal } from './dump-journal.js';
import { recoverInterruptedDumps } from './dump-recovery.js';
import { ExitFiles } from './exit-files.js';
import { holdStdio } from './io-holder.js';
import { JobIo } from './job-io.js';
import { JobLocks } from './job-locks.js';
import { JobRecords, newJid, runningState } from './job-records.js';
import { reattach } from './reattach.js';
import { fillDumpFromJob, manifestJob, restoreTarget } from './request-targets.js';
import { CheckpointReaders, pruneCheckpoints } from './retention.js';
import { cleanUpJob, killSignalFor } from './type-hooks.js';

/** How long a restore waits for the dumped incarnation's PID to be released. */
const GONE_TIMEOUT_MS = 5_000;

export class JobManager {
  private readonly records: JobRecords;
  private readonly locks = new JobLocks((jid, status) => this.markExited(jid, status));
  private readonly exitFiles: ExitFiles;
  /** Checkpoints that restores are reading: retention leaves them alone. */
  private readonly readers = new CheckpointReaders();
  /** Each dump's intent, so that a daemon killed during one finishes or undoes it when it starts again. */
  private readonly journal: DumpJournal;

  /** True while a restore reads the checkpoint at `path`: it must not be deleted under it. */
  isBeingRestored(path: string): boolean {
    return this.readers.has(path);
  }

  constructor(
    private readonly store: Store,
    private readonly plugins: PluginSource,
    private readonly log: Logger,
    /** Where restored processes' exit statuses are left for a daemon that restarted (RestoreContext.exitStatusFile). */
    exitDir: string,
    /** Where attachable jobs' I/O holders listen (io-holder.ts). */
    private readonly ioDir: string,
  ) {
    this.journal = new DumpJournal(store);
    this.records = new JobRecords(store);
    this.exitFiles = new ExitFiles(exitDir, log);
  }

  /**
   * After a daemon restart: dumps it was killed during are finished or undone first
   * (dump-recovery.ts); then jobs whose process still lives are watched again, the others have exited.
   */
  async init(): Promise<void> {
    await recoverInterruptedDumps({ store: this.store, journal: this.journal, log: this.log });
    for (const job of await this.store.listJobs()) {
      const state = job.state;
      if (state?.status !== 'running') continue;
      const started = await reattach(job, this.ioDir, this.exitFiles);
      if (started) {
        this.log.info({ jid: job.jid, pid: state.pid }, 'job still running: watching it again');
        await this.track(job, started);
      } else {
        this.log.info({ jid: job.jid, pid: state.pid }, 'job ended while the daemon was down');
        await this.markExited(job.jid, (await this.exitFiles.read(job.jid)) ?? { code: null, signal: null });
      }
    }
  }

  async run(ctx: BaseContext, req: RunReq): Promise<RunResp> {
    req.type ||= 'process';
    req.jid = checkName('JID', req.jid || newJid());
    await this.records.ensureNew(req.jid);
    req.log ||= `/var/log/cedana-output-${req.jid}.log`;
    const res = RunResp.create({ jid: req.jid });
    const started = await runPipeline(ctx.plugins, req.type)(ctx, req, res);
    const job = Job.create({
      jid: req.jid,
      type: req.type,
      log: req.log,
      attachable: req.attachable,
      gpuEnabled: req.gpuEnabled,
      process: req.process,
      details: req.details,
      createdAt: new Date().toISOString(),
      pidNamespace: req.pidNamespace === true,
      state: await runningState(started.pid),
    });
    await this.store.putJob(job);
    await this.track(job, started);
    res.pid = started.pid;
    return res;
  }

  async manage(ctx: BaseContext, req: ManageReq): Promise<ManageResp> {
    req.type ||= 'process';
    req.jid = checkName('JID', req.jid || newJid());
    await this.records.ensureNew(req.jid);
    const res = ManageResp.create({ jid: req.jid, pid: req.pid });
    let started = await manageHandler(ctx.plugins, req.type)(ctx, req, res);
    const pid = started?.pid ?? res.pid;
    started ??= watchProcess(pid, await processStartTime(pid));
    const job = Job.create({
      jid: req.jid,
      type: req.type,
      gpuEnabled: req.gpuEnabled,
      details: req.details,
      createdAt: new Date().toISOString(),
      state: await runningState(pid),
    });
    await this.store.putJob(job);
    await this.track(job, started);
    res.pid = pid;
    return res;
  }

  list(req: ListReq): Promise<Job[]> {
    return this.records.list(req);
  }

  get(jid: string): Promise<Job> {
    return this.records.get(jid);
  }

  byPid(pid: number): Promise<Job> {
    return this.records.byPid(pid);
  }

  async kill(req: KillReq): Promise<string[]> {
    const messages: string[] = [];
    for (const jid of req.jids) {
      const job = await this.get(jid);
      if (job.state?.status !== 'running')
        throw new CedanaError('CEDANA_ERR_JOB_NOT_RUNNING', `job "${jid}" is ${job.state?.status ?? 'unknown'}, not running`);
      const signal = req.signal || killSignalFor(this.plugins, job.type);
      const n = signalNumber(signal);
      if (n === undefined)
        throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `unknown signal "${signal}"`, {
          hint: 'use a name such as SIGTERM or a number',
        });
      process.kill(job.state.pid, n);
      messages.push(`sent ${signalName(n)} to job ${jid} (PID ${job.state.pid})`);
    }
    return messages;
  }

  async delete(jids: string[]): Promise<string[]> {
    const messages: string[] = [];
    for (const jid of jids) {
      const job = await this.get(jid);
      if (job.state?.status === 'running') {
        throw new CedanaError('CEDANA_ERR_JOB_RUNNING', `job "${jid}" is running`, { hint: `kill it first: \`cedana job kill ${jid}\`` });
      }
      await cleanUpJob(this.plugins, job);
      this.locks.forget(jid);
      await this.store.deleteJob(jid);
      messages.push(`deleted job ${jid}`);
    }
    return messages;
  }

  /** The streams of an attachable job, and a way to hear of its exit. */
  async attach(job: Job): Promise<{ io: JobIo; onExit(listener: (s: ExitStatus) => void): () => void; exited?: ExitStatus }> {
    const rt = this.locks.find(job.jid);
    if (!job.attachable) throw new CedanaError('CEDANA_ERR_NOT_ATTACHABLE', `job "${job.jid}" is not attachable`);
    if (!rt?.io) {
      throw new CedanaError('CEDANA_ERR_NOT_ATTACHABLE', `job "${job.jid}" was started attachable, but its I/O holder is gone`, {
        hint: `its output so far is in ${job.log}; a holder ends only with its job, so something killed it`,
      });
    }
    const exited = job.state?.status === 'exited' ? { code: job.state.exitCode ?? null, signal: job.state.exitSignal || null } : undefined;
    return {
      io: rt.io,
      exited,
      onExit: (listener) => {
        rt.exitListeners.add(listener);
        return () => rt.exitListeners.delete(listener);
      },
    };
  }

  async dump(base: BaseContext & Measured, req: DumpReq): Promise<DumpResp> {
    const intent = this.journal.intent();
    return this.journaledDump(base, req, intent).finally(() => intent.close());
  }

  private async journaledDump(base: BaseContext & Measured, req: DumpReq, intent: DumpIntent): Promise<DumpResp> {
    const ctx: DumpContext = {
      ...base,
      stats: CheckpointStats.create(),
      imagesDir: '',
      pid: 0,
      criu: criuOptionsFrom(req.criu, base.config),
      manifest: { plugins: this.pluginVersions() },
      ...contextSlots(),
    };
    // A runtime plugin's container is named by its details, not a PID: nothing to lock by PID.
    if (!req.jid && req.pid) await refuseDaemonHelper(req.pid, this);
    if (!req.jid) return req.pid ? this.locks.withPidLock(req.pid, () => this.runDump(ctx, req, intent)) : this.runDump(ctx, req, intent);
    const job = await this.get(req.jid);
    fillDumpFromJob(req, job);
    ctx.manifest.job = manifestJob(job);
    return this.locks.withJobLock(job.jid, async (rt) => {
      const res = await this.locks.withPidLock(req.pid, () => this.runDump(ctx, req, intent));
      job.lastCheckpoint = res.checkpoint;
      if (!ctx.criu.leaveRunning && job.state) {
        job.state.status = 'checkpointed';
        rt.generation++; // the exit CRIU causes is not the job's end
        rt.pendingExit = undefined;
      }
      await this.store.putJob(job);
      if (res.checkpoint) {
        const keep = base.config['checkpoint.keep'];
        const made = res.checkpoint.id;
        res.messages.push(
          ...(await pruneCheckpoints(this.store, { jid: job.jid, keep, made, readers: this.readers, log: this.log, storage: base })),
        );
      }
      return res;
    });
  }

  async restore(base: BaseContext & Measured, req: RestoreReq): Promise<RestoreResp> {
    const ctx: RestoreContext = {
      ...base,
      stats: CheckpointStats.create(),
      imagesDir: '',
      criu: criuOptionsFrom(req.criu, base.config),
      manifest: unreadManifest(),
      ...contextSlots(),
    };
    const { jid, existing } = await restoreTarget(this.store, req);
    return this.locks.withJobLock(jid, async (rt) => {
      await Promise.race([rt.gone, sleep(GONE_TIMEOUT_MS)]);
      const res = RestoreResp.create({ jid });
      res.stats = ctx.stats; // the same object: adapters and plugins fill it as the restore goes (create() would copy it)
      ctx.exitStatusFile = await this.exitFiles.fresh(jid);
      const pipeline = restorePipeline(ctx.plugins, req.type || 'process');
      const started = await this.readers.reading(req.path, () => pipeline(ctx, req, res));
      const fromManifest = ctx.manifest.job ?? {};
      const job =
        existing ??
        Job.fromJSON({
          ...fromManifest,
          jid,
          type: req.type || ctx.manifest.type || 'process',
          createdAt: new Date().toISOString(),
        });
      // A restored process writes where it wrote before (CRIU reopens its files); a new --log
      // takes effect where the output passes through a pipe: attachable jobs, runtime shims.
      const logFollows = Boolean(started.stdio) || req.type !== 'process';
      if (req.log && !logFollows && req.log !== job.log) {
        res.messages.push(
          `the restored process writes to ${job.log || 'its old files'} as before: --log applies to attachable jobs and containers`,
        );
      }
      job.log = (logFollows && req.log) || job.log || `/var/log/cedana-output-${fileNameFor(jid)}.log`;
      job.attachable = Boolean(started.stdio);
      job.pidNamespace = ctx.manifest.pidNamespace === true;
      if (req.details) job.details = req.details; // as the type's plugin left them (e.g. a new container ID)
      job.state = await runningState(started.pid);
      await this.store.putJob(job);
      await this.track(job, started);
      res.pid = started.pid;
      return res;
    });
  }

  /** After a migration: the job runs on another daemon, and its record says where (`ADDRESS JID`). */
  /**
   * A post-copy migration that failed before the target ran the job: its criu was killed, so the
   * frozen tree resumed here, the same process. It runs again in the record, and its exit counts.
   */
  async resumedAfterLazyDump(jid: string): Promise<number> {
    return this.locks.withJobLock(jid, async (rt) => {
      const job = await this.get(jid);
      if (!job.state) return 0;
      job.state.status = 'running';
      await this.store.putJob(job);
      const started = rt.started;
      if (started) {
        const gen = ++rt.generation;
        void started.exited.then((status) => this.onExit(jid, gen, status));
      }
      return job.state.pid;
    });
  }

  markMigrated(jid: string, to: string, checkpointKept: boolean): Promise<void> {
    return this.records.markMigrated(jid, to, checkpointKept);
  }

  private async runDump(ctx: DumpContext, req: DumpReq, intent: DumpIntent): Promise<DumpResp> {
    const res = DumpResp.create();
    res.stats = ctx.stats; // the same object: adapters and plugins fill it as the dump goes (create() would copy it)
    await dumpPipeline(ctx.plugins, req.type || 'process', intent)(ctx, req, res);
    if (res.checkpoint) await this.store.putCheckpoint(res.checkpoint);
    return res;
  }

  private async track(job: Job, started: Started): Promise<void> {
    const rt = this.locks.runtime(job.jid);
    const gen = ++rt.generation;
    rt.started = started;
    rt.gone = started.exited;
    void started.exited.then((status) => this.onExit(job.jid, gen, status));
    if (started.stdio) {
      rt.io ??= new JobIo(job.log);
      const held = await holdStdio(started, { dir: this.ioDir, jid: job.jid, log: job.log }, this.log);
      rt.holder = held.holder;
      rt.io.connect(held.stdio, { logged: Boolean(held.holder) });
    }
  }

  private async onExit(jid: string, gen: number, status: ExitStatus): Promise<void> {
    const rt = this.locks.find(jid);
    if (!rt || rt.generation !== gen) return;
    if (rt.busy) {
      rt.pendingExit = status;
      return;
    }
    await this.markExited(jid, status);
  }

  private async markExited(jid: string, status: ExitStatus): Promise<void> {
    if (!(await this.records.markExited(jid, status))) return;
    await this.exitFiles.remove(jid);
    this.log.info({ jid, code: status.code, signal: status.signal }, 'job exited');
    for (const l of this.locks.find(jid)?.exitListeners ?? []) l(status);
  }

  private pluginVersions(): Record<string, string> {
    return Object.fromEntries(
      this.plugins
        .plugins()
        .filter((p) => p.status === 'ok')
        .map((p) => [p.name, p.version]),
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
