/** The Daemon service: each RPC builds its request context and hands over to the job manager or a pipeline. */

import type { HealthCheck } from '@cedana/core';
import {
  type BaseContext,
  type Config,
  type ExitStatus,
  features as FEATURE_SET,
  featureMatrix,
  type Logger,
  type ProfileNode,
  type ProgressFn,
  signalNumber,
  wire,
} from '@cedana/core';
import {
  type AttachReq,
  type AttachResp,
  type DaemonServer,
  type FeaturesResp,
  type HealthCheckResp,
  ProfilingData,
  type ProgressEvent,
  type ProgressReq,
} from '@cedana/core/proto';
import { Metadata, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import { runHealthChecks } from '../health/run-checks.js';
import type { JobManager } from '../jobs/job-manager.js';
import { MigrationTarget } from '../migrate/migrate-in.js';
import { migrateJob } from '../migrate/migrate-out.js';
import { ownHandler } from '../pipelines/plugin-adapters.js';
import { pluginFaults } from '../pipelines/plugin-faults.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { Store } from '../store/store.js';
import { checkAuth } from './auth.js';
import { callContext } from './call-context.js';
import { toServiceError } from './grpc-errors.js';
import { ProgressHub } from './progress-hub.js';

export interface ServiceDeps {
  config: Config;
  log: Logger;
  jobs: JobManager;
  store: Store;
  plugins: PluginRegistry;
  coreChecks: HealthCheck[];
}

/** The requests whose time in the daemon is logged (info) when answered. */
const TIMED = new Set(['Dump', 'Restore', 'Migrate']);

export function daemonService(d: ServiceDeps): DaemonServer {
  const hub = new ProgressHub();
  const incoming = new MigrationTarget(d.jobs, d.plugins, d.config, d.log.child({ component: 'migrate' }));
  const unary =
    <Req, Res>(method: string, fn: (ctx: BaseContext, req: Req, metadata: Metadata) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const ctx = callContext(method, call.metadata, call, d.config, d.log, d.plugins);
      const started = process.hrtime.bigint();
      ctx.log.debug({ req: call.request }, 'request');
      Promise.resolve()
        .then(() => checkAuth(call.metadata, d.config))
        .then(() => fn(ctx, call.request, call.metadata))
        .then(
          (res) => {
            // An operation's time in the daemon, apart from the CLI's start (the benches read it).
            if (TIMED.has(method)) ctx.log.info({ ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'answered');
            callback(null, res, profilingTrailer(ctx, started));
          },
          (err) => callback(toServiceError(err, ctx.log)),
        );
    };

  return {
    dump: unary('Dump', (ctx, req, md) => withProgress(hub, md, (progress) => d.jobs.dump({ ...ctx, progress }, req))),
    restore: unary('Restore', (ctx, req, md) => withProgress(hub, md, (progress) => d.jobs.restore({ ...ctx, progress }, req))),
    progress: (call) => watchProgress(hub, call),
    run: unary('Run', (ctx, req) => d.jobs.run(ctx, req)),
    manage: unary('Manage', (ctx, req) => d.jobs.manage(ctx, req)),
    list: unary('List', async (_, req) => ({ jobs: await d.jobs.list(req) })),
    kill: unary('Kill', async (_, req) => ({ messages: await d.jobs.kill(req) })),
    delete: unary('Delete', async (_, req) => ({ messages: await d.jobs.delete(req.jids) })),
    attach: (call) => attach(call, d),
    migrate: unary('Migrate', (ctx, req) => migrateJob(d, ctx, req)),
    migratePrepare: unary('MigratePrepare', (_, req) => incoming.prepare(req)),
    migrateReceive: (call, callback) => {
      const ctx = callContext('MigrateReceive', call.metadata, call, d.config, d.log, d.plugins);
      Promise.resolve()
        .then(() => checkAuth(call.metadata, d.config))
        .then(() => incoming.receive(ctx, call))
        .then(
          (res) => callback(null, res),
          (err) => callback(toServiceError(err, ctx.log)),
        );
    },
    migratePages: (call) => {
      const ctx = callContext('MigratePages', call.metadata, call, d.config, d.log, d.plugins);
      Promise.resolve()
        .then(() => checkAuth(call.metadata, d.config))
        .then(() => incoming.pages(call))
        .then(
          () => call.end(),
          (err) => call.emit('error', toServiceError(err, ctx.log)), // grpc-js: sets the call's status and ends it
        );
    },
    listCheckpoints: unary('ListCheckpoints', async (_, req) => ({ checkpoints: await d.store.listCheckpoints(req.jid || undefined) })),
    inspectCheckpoint: unary('InspectCheckpoint', (_, req) => inspectCheckpoint(d, req.id)),
    deleteCheckpoint: unary('DeleteCheckpoint', (_, req) => deleteCheckpoints(d, req.ids)),
    query: unary('Query', async (ctx, req) => {
      return { result: await ownHandler(d.plugins, FEATURE_SET.QueryHandler, req.type)(ctx, req) };
    }),
    healthCheck: unary(
      'HealthCheck',
      async (ctx): Promise<HealthCheckResp> => ({
        components: (await runHealthChecks(d.coreChecks, d.plugins, d.config, ctx.log, ctx.signal)).map((r) => ({ ...r })),
      }),
    ),
    reloadPlugins: unary('ReloadPlugins', async () => {
      await d.plugins.reload();
      return featuresResp(d.plugins);
    }),
    features: unary('Features', async () => featuresResp(d.plugins)),
  };
}

/** Runs a Dump or Restore with a progress function when its metadata names a request ID. */
async function withProgress<T>(hub: ProgressHub, md: Metadata, fn: (progress: ProgressFn | undefined) => Promise<T>): Promise<T> {
  const id = md.get(wire.REQUEST_ID_KEY)[0];
  if (typeof id !== 'string' || id === '') return fn(undefined);
  const reporter = hub.open(id);
  try {
    return await fn(reporter.progress);
  } finally {
    reporter.end();
  }
}

/** Progress: streams the reports of one request until it ends or the client goes. */
function watchProgress(hub: ProgressHub, call: ServerWritableStream<ProgressReq, ProgressEvent>): void {
  const end = () => {
    if (!call.writableEnded) call.end();
  };
  const stop = hub.watch(
    call.request.requestId,
    (event) => {
      if (!call.writableEnded) call.write(event);
    },
    end,
  );
  call.on('cancelled', stop);
  call.on('close', stop);
}

function profilingTrailer(ctx: BaseContext, started: bigint): Metadata | undefined {
  if (!ctx.profiler) return undefined;
  const root = ctx.profiler.finish(Number(process.hrtime.bigint() - started));
  const md = new Metadata();
  md.set(wire.PROFILING_KEY, Buffer.from(ProfilingData.encode(toProto(root)).finish()));
  return md;
}

function toProto(n: ProfileNode): ProfilingData {
  return { name: n.name, durationNs: n.durationNs, components: n.components.map(toProto) };
}

function featuresResp(plugins: PluginRegistry): FeaturesResp {
  return { ...featureMatrix(plugins.plugins()), faults: pluginFaults() };
}

async function inspectCheckpoint(d: ServiceDeps, id: string) {
  const { CedanaError } = await import('@cedana/core');
  const checkpoint = await d.store.getCheckpoint(id);
  if (!checkpoint) throw new CedanaError('CEDANA_ERR_CHECKPOINT_NOT_FOUND', `no checkpoint with ID "${id}"`);
  const { inspectCheckpointPath } = await import('../checkpoint/inspect.js');
  const { isRemote } = await import('../storage/remote-storage.js');
  if (isRemote(checkpoint.path)) {
    const { inspectRemoteCheckpoint } = await import('../storage/remote-inspect.js');
    return { checkpoint, ...(await inspectRemoteCheckpoint(checkpoint.path, d)) };
  }
  return { checkpoint, ...(await inspectCheckpointPath(checkpoint.path, { plugins: d.plugins })) };
}

async function deleteCheckpoints(d: ServiceDeps, ids: string[]) {
  const { CedanaError } = await import('@cedana/core');
  const { removeCheckpoint } = await import('../storage/remove-checkpoint.js');
  const messages: string[] = [];
  for (const id of ids) {
    const c = await d.store.getCheckpoint(id);
    if (!c) throw new CedanaError('CEDANA_ERR_CHECKPOINT_NOT_FOUND', `no checkpoint with ID "${id}"`);
    if (d.jobs.isBeingRestored(c.path)) {
      throw new CedanaError('CEDANA_ERR_JOB_BUSY', `checkpoint ${id} (${c.path}) is being restored right now: it was not deleted`, {
        hint: 'wait for the restore to finish, then delete it',
      });
    }
    await removeCheckpoint(c.path, d);
    await d.store.deleteCheckpoint(id);
    messages.push(`deleted checkpoint ${id} (${c.path})`);
  }
  return { messages };
}

/** Attach: the first message names the job; then stdin in, stdout/stderr/exit code out. */
function attach(call: ServerDuplexStream<AttachReq, AttachResp>, d: ServiceDeps): void {
  const log = d.log.child({ method: 'Attach' });
  let detach = () => {};
  let deliver: ((m: AttachReq) => void) | undefined;
  const pending: AttachReq[] = [];
  const send = (resp: AttachResp) => {
    if (!call.writableEnded) call.write(resp);
  };
  const finish = (s: ExitStatus) => {
    send({ output: { $case: 'exitCode', value: exitCode(s) } });
    call.end();
  };
  const start = async (first: AttachReq) => {
    checkAuth(call.metadata, d.config);
    const job = first.jid ? await d.jobs.get(first.jid) : await d.jobs.byPid(first.pid);
    const handle = await d.jobs.attach(job);
    if (handle.exited) return finish(handle.exited);
    const offOutput = handle.io.subscribe((stream, chunk) => send({ output: { $case: stream, value: chunk } }));
    const offExit = handle.onExit(finish);
    detach = () => {
      offOutput();
      offExit();
    };
    deliver = (m) => {
      if (m.stdin.length > 0) handle.io.write(Buffer.from(m.stdin));
      if (m.closeStdin) handle.io.closeStdin();
    };
    for (const m of [first, ...pending.splice(0)]) deliver(m);
  };
  let first = true;
  call.on('data', (m: AttachReq) => {
    if (first) {
      first = false;
      start(m).catch((err) => call.emit('error', toServiceError(err, log)));
    } else if (deliver) deliver(m);
    else pending.push(m);
  });
  call.on('cancelled', () => detach());
  call.on('error', () => detach());
  call.on('end', () => {
    detach();
    if (!call.writableEnded) call.end();
  });
}

/** A shell-style exit code: the code, or 128 + the signal number. */
function exitCode(s: ExitStatus): number {
  if (s.code !== null) return s.code;
  return 128 + (s.signal ? (signalNumber(s.signal) ?? 0) : 0);
}
