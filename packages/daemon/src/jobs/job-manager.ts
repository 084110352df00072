/**
 * Managed jobs: their records in the store, their live processes, and the job
 * side of every request (run, manage, dump job, restore job, kill, delete, attach).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BaseContext,
  CedanaError,
  checkName,
  type DumpContext,
  type ExitStatus,
  features,
  fileNameFor,
  inPlugin,
  isAlive,
  type Logger,
  type Measured,
  type PluginSource,
  processStartTime,
  type RestoreContext,
  type Started,
  signalName,
  signalNumber,
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
import { ownHandler } from '../pipelines/plugin-adapters.js';
import { restorePipeline } from '../pipelines/restore.js';
import { runPipeline } from '../pipelines/run.js';
import { refuseDaemonHelper, refuseProtectedPid } from '../process/protected-pids.js';
import { watchProcess } from '../process/watch.js';
import type { Store } from '../store/store.js';
import { type DumpIntent, DumpJournal } from './dump-journal.js';
import { recoverInterruptedDumps } from './dump-recovery.js';
import { type HeldStarted, holdStdio, reconnectHolder } from './io-holder.js';
import { JobIo } from './job-io.js';
import { CheckpointReaders, pruneCheckpoints } from './retention.js';
import { JobRuntime } from './runtime.js';

/** How long a restore waits for the dumped incarnation's PID to be released. */
const GONE_TIMEOUT_MS = 5_000;

export class JobManager {
  private readonly runtimes = new Map<string, JobRuntime>();
  /** PIDs being dumped right now, jobs or not. */
  private readonly dumping = new Set<number>();
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
    private readonly exitDir: string,
    /** Where attachable jobs' I/O holders listen (io-holder.ts). */
    private readonly ioDir: string,
  ) {
    this.journal = new DumpJournal(store);
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
      const ticks = await processStartTime(state.pid);
      if (ticks !== undefined && (await isAlive(state.pid)) && (!state.startTicks || ticks === state.startTicks)) {
        this.log.info({ jid: job.jid, pid: state.pid }, 'job still running: watching it again');
        const watched = () => watchProcess(state.pid, ticks).exited.then(async (s) => (await this.exitFromFile(job.jid)) ?? s);
        const holder = job.attachable ? await reconnectHolder(this.ioDir, job.jid) : undefined;
        const exited = holder ? holder.exited.then((s) => s ?? watched()) : watched();
        const started: Started | HeldStarted = holder
          ? { pid: state.pid, exited, stdio: holder.stdio, holder }
          : { pid: state.pid, exited };
        await this.track(job, started);
      } else {
        this.log.info({ jid: job.jid, pid: state.pid }, 'job ended while the daemon was down');
        await this.markExited(job.jid, (await this.exitFromFile(job.jid)) ?? { code: null, signal: null });
      }
    }
  }

  async run(ctx: BaseContext, req: RunReq): Promise<RunResp> {
    req.type ||= 'process';
    req.jid = checkName('JID', req.jid || newJid());
    await this.ensureNew(req.jid);
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
    await this.ensureNew(req.jid);
    const res = ManageResp.create({ jid: req.jid, pid: req.pid });
    let started: Started | undefined;
    if (req.type === 'process') {
      if (!req.pid || !(await isAlive(req.pid)))
        throw new CedanaError('CEDANA_ERR_PROCESS_NOT_FOUND', `no running process with PID ${req.pid}`);
      await refuseProtectedPid(req.pid, 'manage');
    } else {
      started = await ownHandler(ctx.plugins, features.ManageHandler, req.type)(ctx, req, res);
    }
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

  async list(req: ListReq): Promise<Job[]> {
    const jobs = await this.store.listJobs();
    return jobs.filter((j) => (req.jids.length === 0 || req.jids.includes(j.jid)) && (!req.type || j.type === req.type));
  }

  async get(jid: string): Promise<Job> {
    const job = await this.store.getJob(jid);
    if (!job) throw jobNotFound(jid);
    return job;
  }

  async byPid(pid: number): Promise<Job> {
    const job = (await this.store.listJobs()).find((j) => j.state?.status === 'running' && j.state.pid === pid);
    if (!job) throw new CedanaError('CEDANA_ERR_JOB_NOT_FOUND', `no running job with PID ${pid}`);
    return job;
  }

  async kill(req: KillReq): Promise<string[]> {
    const messages: string[] = [];
    for (const jid of req.jids) {
      const job = await this.get(jid);
      if (job.state?.status !== 'running')
        throw new CedanaError('CEDANA_ERR_JOB_NOT_RUNNING', `job "${jid}" is ${job.state?.status ?? 'unknown'}, not running`);
      const signal = req.signal || (await this.killSignal(job.type));
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
      const cleanup = job.type === 'process' ? undefined : features.Cleanup.get(this.plugins, job.type);
      if (cleanup) await inPlugin(job.type, features.Cleanup.symbol, () => cleanup(job));
      this.runtimes.get(jid)?.holder?.quit();
      this.runtimes.get(jid)?.io?.close();
      this.runtimes.delete(jid);
      await this.store.deleteJob(jid);
      messages.push(`deleted job ${jid}`);
    }
    return messages;
  }

  /** The streams of an attachable job, and a way to hear of its exit. */
  async attach(job: Job): Promise<{ io: JobIo; onExit(listener: (s: ExitStatus) => void): () => void; exited?: ExitStatus }> {
    const rt = this.runtimes.get(job.jid);
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
    };
    // A runtime plugin's container is named by its details, not a PID: nothing to lock by PID.
    if (!req.jid && req.pid) await refuseDaemonHelper(req.pid, this);
    if (!req.jid) return req.pid ? this.withPidLock(req.pid, () => this.runDump(ctx, req, intent)) : this.runDump(ctx, req, intent);
    const job = await this.get(req.jid);
    if (job.state?.status !== 'running') {
      throw new CedanaError(
        'CEDANA_ERR_JOB_NOT_RUNNING',
        `job "${job.jid}" is ${job.state?.status ?? 'unknown'}, not running: there is nothing to dump`,
        {
          hint: job.state?.status === 'checkpointed' ? `restore it with \`cedana restore job ${job.jid}\`` : undefined,
        },
      );
    }
    req.type = job.type;
    req.pid = job.state.pid;
    req.details = mergeDetails(job.details, req.details);
    ctx.manifest.job = {
      jid: job.jid,
      type: job.type,
      log: job.log,
      attachable: job.attachable,
      gpuEnabled: job.gpuEnabled,
      process: job.process,
    };
    return this.withJobLock(job.jid, async (rt) => {
      const res = await this.withPidLock(req.pid, () => this.runDump(ctx, req, intent));
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
      manifest: {},
    };
    if (req.checkpointId) {
      const c = await this.store.getCheckpoint(req.checkpointId);
      if (!c) throw new CedanaError('CEDANA_ERR_CHECKPOINT_NOT_FOUND', `no checkpoint with ID "${req.checkpointId}"`);
      req.path ||= c.path;
      req.jid ||= c.jid;
    }
    const existing = req.jid ? await this.store.getJob(req.jid) : undefined;
    // With a checkpoint path, a JID that names no job yet is the JID of the new job; without one, it must exist.
    if (req.jid && !existing && !req.path) throw jobNotFound(req.jid);
    if (existing?.state?.status === 'running') {
      throw new CedanaError('CEDANA_ERR_JOB_RUNNING', `job "${existing.jid}" is already running (PID ${existing.state.pid})`, {
        hint: `kill it first (\`cedana job kill ${existing.jid}\`), or restore the checkpoint as a new job with \`cedana restore ${existing.type} --path PATH\``,
      });
    }
    if (existing) {
      req.path ||= existing.lastCheckpoint?.path ?? '';
      if (!req.path)
        throw new CedanaError('CEDANA_ERR_CHECKPOINT_NOT_FOUND', `job "${existing.jid}" has no checkpoint`, {
          hint: `dump it first: \`cedana dump job ${existing.jid}\``,
        });
      req.type = existing.type;
      req.attachable ||= existing.attachable;
      req.details = mergeDetails(existing.details, req.details);
    }
    const jid = existing?.jid ?? checkName('JID', req.jid || newJid()); // a new job's JID; an old job keeps its own
    return this.withJobLock(jid, async (rt) => {
      await Promise.race([rt.gone, sleep(GONE_TIMEOUT_MS)]);
      const res = RestoreResp.create({ jid });
      res.stats = ctx.stats; // the same object: adapters and plugins fill it as the restore goes (create() would copy it)
      ctx.exitStatusFile = await this.freshExitFile(jid);
      const pipeline = restorePipeline(ctx.plugins, req.type || 'process');
      const started = await this.readers.reading(req.path, () => pipeline(ctx, req, res));
      const fromManifest = (ctx.manifest.job ?? {}) as Partial<Job>;
      const job =
        existing ??
        Job.fromJSON({
          ...fromManifest,
          jid,
          type: req.type || (ctx.manifest.type as string) || 'process',
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
  async markMigrated(jid: string, to: string, checkpointKept: boolean): Promise<void> {
    const job = await this.get(jid);
    if (job.state) {
      job.state.status = 'migrated';
      job.state.endedAt = new Date().toISOString();
    }
    job.migratedTo = to;
    if (!checkpointKept) job.lastCheckpoint = undefined;
    await this.store.putJob(job);
  }

  private async runDump(ctx: DumpContext, req: DumpReq, intent: DumpIntent): Promise<DumpResp> {
    const res = DumpResp.create();
    res.stats = ctx.stats; // the same object: adapters and plugins fill it as the dump goes (create() would copy it)
    await dumpPipeline(ctx.plugins, req.type || 'process', intent)(ctx, req, res);
    if (res.checkpoint) await this.store.putCheckpoint(res.checkpoint);
    return res;
  }

  private async track(job: Job, started: Started): Promise<void> {
    const rt = this.runtime(job.jid);
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
    const rt = this.runtimes.get(jid);
    if (!rt || rt.generation !== gen) return;
    if (rt.busy) {
      rt.pendingExit = status;
      return;
    }
    await this.markExited(jid, status);
  }

  private async markExited(jid: string, status: ExitStatus): Promise<void> {
    const job = await this.store.getJob(jid);
    if (!job?.state) return;
    job.state.status = 'exited';
    job.state.exitCode = status.code ?? undefined;
    job.state.exitSignal = status.signal ?? '';
    job.state.endedAt = new Date().toISOString();
    await this.store.putJob(job);
    await rm(this.exitFile(jid), { force: true });
    this.log.info({ jid, code: status.code, signal: status.signal }, 'job exited');
    const rt = this.runtimes.get(jid);
    for (const l of rt?.exitListeners ?? []) l(status);
  }

  private exitFile(jid: string): string {
    return join(this.exitDir, `${fileNameFor(jid)}.json`); // a JID from before the name rule never makes the path
  }

  private async freshExitFile(jid: string): Promise<string> {
    await mkdir(this.exitDir, { recursive: true });
    await rm(this.exitFile(jid), { force: true });
    return this.exitFile(jid);
  }

  /** The exit status a restore handler left for the job, if any (`{"code":N}` or `{"signal":N}`). */
  private async exitFromFile(jid: string): Promise<ExitStatus | undefined> {
    const text = await readFile(this.exitFile(jid), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const s = JSON.parse(text) as { code?: number; signal?: number };
      if (typeof s.code === 'number') return { code: s.code, signal: null };
      if (typeof s.signal === 'number') return { code: null, signal: signalName(s.signal) };
    } catch {
      this.log.warn({ jid, file: this.exitFile(jid) }, 'unreadable exit status file');
    }
    return undefined;
  }

  private async withJobLock<T>(jid: string, fn: (rt: JobRuntime) => Promise<T>): Promise<T> {
    const rt = this.runtime(jid);
    if (rt.busy) throw new CedanaError('CEDANA_ERR_JOB_BUSY', `job "${jid}" is being dumped or restored right now`);
    rt.busy = true;
    try {
      return await fn(rt);
    } finally {
      rt.busy = false;
      const pending = rt.pendingExit;
      rt.pendingExit = undefined;
      if (pending) await this.markExited(jid, pending);
    }
  }

  private async withPidLock<T>(pid: number, fn: () => Promise<T>): Promise<T> {
    if (this.dumping.has(pid)) throw new CedanaError('CEDANA_ERR_JOB_BUSY', `PID ${pid} is being dumped right now`);
    this.dumping.add(pid);
    try {
      return await fn();
    } finally {
      this.dumping.delete(pid);
    }
  }

  private runtime(jid: string): JobRuntime {
    let rt = this.runtimes.get(jid);
    if (!rt) {
      rt = new JobRuntime();
      this.runtimes.set(jid, rt);
    }
    return rt;
  }

  private async ensureNew(jid: string): Promise<void> {
    if (await this.store.getJob(jid)) throw new CedanaError('CEDANA_ERR_JOB_EXISTS', `a job with JID "${jid}" already exists`);
  }

  private async killSignal(type: string): Promise<string> {
    return (type !== 'process' && features.KillSignal.get(this.plugins, type)) || 'SIGKILL';
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

async function runningState(pid: number) {
  return {
    pid,
    status: 'running',
    startedAt: new Date().toISOString(),
    startTicks: (await processStartTime(pid)) ?? 0,
    exitSignal: '',
    endedAt: '',
    host: '',
  };
}

/**
 * A job's plugin details with a request's on top, plugin by plugin: `restore job J --id NEW`
 * keeps the job's other details and changes the ID.
 */
export function mergeDetails(
  job: Record<string, unknown> | undefined,
  req: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (!job) return req;
  if (!req) return job;
  const out: Record<string, unknown> = { ...job };
  for (const [plugin, value] of Object.entries(req)) {
    const base = out[plugin];
    out[plugin] = isRecord(base) && isRecord(value) ? { ...base, ...value } : value;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jobNotFound(jid: string): CedanaError {
  return new CedanaError('CEDANA_ERR_JOB_NOT_FOUND', `no job with JID "${jid}"`);
}

function newJid(): string {
  return randomBytes(4).toString('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
