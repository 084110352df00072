/**
 * The CLI's client of the daemon: a unix socket (`unix:///run/cedana.sock`) or TCP
 * (`host:port`, with a bearer token when `auth_token` is set; over TLS with tls.enabled or
 * tls.ca, checking the daemon's certificate: core's tls.ts builds the options of both clients).
 * Unary calls go over our own
 * small gRPC client on node:http2 (grpc-unary.ts) and become promises whose failures are
 * CedanaErrors (call-errors.ts); a daemon that does not accept the connection in time is
 * CEDANA_ERR_DAEMON_UNREACHABLE, exit code 3. The streaming calls (Attach, Progress) load
 * grpc-js on first use (client-streams.ts). Why: docs/architecture.md, "The CLI's gRPC client".
 */

import { access, constants, stat } from 'node:fs/promises';
import type { ClientHttp2Session } from 'node:http2';
import { resolve } from 'node:path';
import { type Config, clientTlsOf, plainToTls, speaksTls, tlsConnectOptions, tlsFailure, wire } from '@cedana/core';
import {
  DeleteCheckpointReq,
  DeleteCheckpointResp,
  DeleteReq,
  DeleteResp,
  DumpReq,
  DumpResp,
  FeaturesReq,
  FeaturesResp,
  HealthCheckReq,
  HealthCheckResp,
  InspectCheckpointReq,
  InspectCheckpointResp,
  KillReq,
  KillResp,
  ListCheckpointsReq,
  ListCheckpointsResp,
  ListReq,
  ListResp,
  ManageReq,
  ManageResp,
  MigratePrepareReq,
  MigratePrepareResp,
  MigrateReq,
  MigrateResp,
  ProfilingData,
  QueryReq,
  QueryResp,
  ReloadPluginsReq,
  RestoreReq,
  RestoreResp,
  RunReq,
  RunResp,
} from '@cedana/core/messages';
import type { DaemonService } from '@cedana/core/proto';
import { type FailedCall, fromFailedCall, unreachable } from './call-errors.js';
import type { StreamsClient } from './client-streams.js';
import type { CallOpts, ConnectOptions, DaemonApi, UnaryMethod } from './daemon-api.js';
import { openSession, type ResponseMetadata, unaryCall } from './grpc-unary.js';
import { targetOf } from './target.js';

const DEFAULT_TIMEOUT_MS = 5000;
/** How long a failed plain connection waits to learn whether the daemon speaks TLS instead. */
const PROBE_TIMEOUT_MS = 2000;

type Service = typeof DaemonService;
interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}
/** Each unary RPC's path and messages; typed against the generated service, so the .proto stays the one list. */
type UnaryTable = {
  [K in UnaryMethod]: {
    path: Service[K]['path'];
    req: Codec<Parameters<Service[K]['requestSerialize']>[0]>;
    resp: Codec<ReturnType<Service[K]['responseDeserialize']>>;
  };
};
const UNARY: UnaryTable = {
  dump: { path: '/cedana.daemon.v1.Daemon/Dump', req: DumpReq, resp: DumpResp },
  restore: { path: '/cedana.daemon.v1.Daemon/Restore', req: RestoreReq, resp: RestoreResp },
  run: { path: '/cedana.daemon.v1.Daemon/Run', req: RunReq, resp: RunResp },
  manage: { path: '/cedana.daemon.v1.Daemon/Manage', req: ManageReq, resp: ManageResp },
  list: { path: '/cedana.daemon.v1.Daemon/List', req: ListReq, resp: ListResp },
  kill: { path: '/cedana.daemon.v1.Daemon/Kill', req: KillReq, resp: KillResp },
  delete: { path: '/cedana.daemon.v1.Daemon/Delete', req: DeleteReq, resp: DeleteResp },
  migrate: { path: '/cedana.daemon.v1.Daemon/Migrate', req: MigrateReq, resp: MigrateResp },
  migratePrepare: { path: '/cedana.daemon.v1.Daemon/MigratePrepare', req: MigratePrepareReq, resp: MigratePrepareResp },
  listCheckpoints: { path: '/cedana.daemon.v1.Daemon/ListCheckpoints', req: ListCheckpointsReq, resp: ListCheckpointsResp },
  inspectCheckpoint: { path: '/cedana.daemon.v1.Daemon/InspectCheckpoint', req: InspectCheckpointReq, resp: InspectCheckpointResp },
  deleteCheckpoint: { path: '/cedana.daemon.v1.Daemon/DeleteCheckpoint', req: DeleteCheckpointReq, resp: DeleteCheckpointResp },
  query: { path: '/cedana.daemon.v1.Daemon/Query', req: QueryReq, resp: QueryResp },
  healthCheck: { path: '/cedana.daemon.v1.Daemon/HealthCheck', req: HealthCheckReq, resp: HealthCheckResp },
  reloadPlugins: { path: '/cedana.daemon.v1.Daemon/ReloadPlugins', req: ReloadPluginsReq, resp: FeaturesResp },
  features: { path: '/cedana.daemon.v1.Daemon/Features', req: FeaturesReq, resp: FeaturesResp },
};

export { targetOf };

export async function connect(config: Config, opts: ConnectOptions = {}): Promise<DaemonApi> {
  const target = targetOf(config);
  if (config.protocol === 'unix') await checkSocket(config.address, target);
  // Loaded here, not imported at the top: node:http2 costs ~15 ms to load, and cannot be in the
  // startup snapshot (whose code has no import(), hence getBuiltinModule).
  const http2 = process.getBuiltinModule('node:http2');
  const { connect: netConnect } = process.getBuiltinModule('node:net');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const tls = config.protocol === 'tcp' ? clientTlsOf(config) : undefined;
  const session: ClientHttp2Session =
    config.protocol === 'unix'
      ? await openSession(http2, 'http://localhost', { createConnection: () => netConnect(resolve(config.address)) }, target, timeoutMs)
      : tls
        ? await openSession(http2, `https://${config.address}`, tlsConnectOptions(tls, config.address), target, timeoutMs, async (err) =>
            err ? tlsFailure(err, config.address, tls, 'cli') : undefined,
          )
        : await openSession(http2, `http://${config.address}`, {}, target, timeoutMs, async (err) =>
            // A TLS daemon drops a plain client's preface without a word: ask it for a handshake to say so.
            err?.code === 'ECONNREFUSED' || !(await speaksTls(config.address, PROBE_TIMEOUT_MS))
              ? undefined
              : plainToTls(config.address, 'cli'),
          );

  /** What every call sends besides its message. */
  const common: Record<string, string> = {};
  if (config['profiling.enabled']) common[wire.PROFILING_REQUEST_KEY] = '1';
  if (config.auth_token) common[wire.AUTH_KEY] = `Bearer ${config.auth_token}`;
  const readProfile = (md: ResponseMetadata | FailedCall['metadata']) => {
    const raw = md?.get(wire.PROFILING_KEY)[0];
    if (raw !== undefined && opts.onProfile)
      opts.onProfile(ProfilingData.decode(typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw));
  };
  const call = async <K extends UnaryMethod>(method: K, req: unknown, callOpts: CallOpts = {}): Promise<unknown> => {
    const { path, req: reqCodec, resp: respCodec } = UNARY[method] as unknown as UnaryTable['list'];
    const headers = callOpts.requestId ? { ...common, [wire.REQUEST_ID_KEY]: callOpts.requestId } : common;
    let answer: Awaited<ReturnType<typeof unaryCall>>;
    try {
      answer = await unaryCall(session, path, reqCodec.encode(req as ListReq).finish(), headers);
    } catch (err) {
      readProfile((err as FailedCall).metadata);
      throw fromFailedCall(err as FailedCall, target);
    }
    readProfile(answer.metadata);
    try {
      return respCodec.decode(answer.message);
    } catch (err) {
      throw fromFailedCall(
        { code: wire.GRPC_STATUS.INTERNAL, details: `cannot read the daemon's answer: ${(err as Error).message}` },
        target,
      );
    }
  };
  const api = Object.fromEntries(
    Object.keys(UNARY).map((method) => [method, (req: unknown, callOpts?: CallOpts) => call(method as UnaryMethod, req, callOpts)]),
  ) as Pick<DaemonApi, UnaryMethod>;

  let streams: Promise<StreamsClient> | undefined;
  const streamsClient = () => {
    streams ??= import('./client-streams.js').then((m) => m.streamsClient(target, common, tls));
    return streams;
  };
  return {
    ...api,
    attach: async () => (await streamsClient()).attach(),
    watchProgress: (requestId, onEvent) => {
      let cancelled = false;
      let watch: { cancel(): void } | undefined;
      void streamsClient().then(
        (s) => {
          if (!cancelled) watch = s.watchProgress(requestId, onEvent);
        },
        () => {},
      ); // progress is a nicety: a client that cannot load never fails the command
      return {
        cancel: () => {
          cancelled = true;
          watch?.cancel();
        },
      };
    },
    close: () => {
      session.close();
      void streams?.then(
        (s) => s.close(),
        () => {},
      );
    },
  };
}

/** Fails fast, with the reason, when the socket is missing or not ours to open. */
async function checkSocket(path: string, target: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    throw unreachable(target, `no socket at ${path}`);
  }
  try {
    await access(path, constants.R_OK | constants.W_OK);
  } catch {
    throw unreachable(
      target,
      `permission denied on ${path}`,
      'the daemon socket is only open to root (mode 0600): run cedana as root (a root shell: `su -`)',
    );
  }
}
