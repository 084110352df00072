/**
 * The gRPC client of the daemon: a unix socket (`unix:///run/cedana.sock`) or TCP
 * (`host:port`, with a bearer token when `auth_token` is set). Unary calls become
 * promises whose failures are CedanaErrors (call-errors.ts); a daemon that does not
 * accept the connection in time is CEDANA_ERR_DAEMON_UNREACHABLE, exit code 3.
 * Loaded lazily: grpc-js costs ~50 ms of startup that `--help` should not pay.
 */
import { access, constants, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Config, wire } from '@cedana/core';
import { type AttachReq, type AttachResp, DaemonClient, ProfilingData } from '@cedana/core/proto';
import {
  type CallOptions,
  type ClientDuplexStream,
  type ClientUnaryCall,
  connectivityState,
  credentials,
  Metadata,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import { type FailedCall, fromFailedCall, unreachable } from './call-errors.js';
import type { AttachCall, CallOpts, ConnectOptions, DaemonApi } from './daemon-api.js';

const DEFAULT_TIMEOUT_MS = 5000;

type UnaryMethod<Req, Resp> = (
  req: Req,
  md: Metadata,
  opts: Partial<CallOptions>,
  cb: (err: ServiceError | null, resp: Resp) => void,
) => ClientUnaryCall;

/** The gRPC target of the configured daemon address. */
export function targetOf(config: Config): string {
  if (config.protocol === 'unix') return `unix://${resolve(config.address)}`;
  return config.address;
}

export async function connect(config: Config, opts: ConnectOptions = {}): Promise<DaemonApi> {
  const target = targetOf(config);
  if (config.protocol === 'unix') await checkSocket(config.address, target);
  const client = new DaemonClient(target, credentials.createInsecure(), { 'grpc.enable_http_proxy': 0 });
  try {
    await waitReady(client, target, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  } catch (err) {
    client.close();
    throw err;
  }

  const metadata = (opts: CallOpts = {}) => {
    const md = new Metadata();
    if (opts.requestId) md.set(wire.REQUEST_ID_KEY, opts.requestId);
    if (config['profiling.enabled']) md.set(wire.PROFILING_REQUEST_KEY, '1');
    if (config.auth_token) md.set(wire.AUTH_KEY, `Bearer ${config.auth_token}`);
    return md;
  };
  const readProfile = (md: Metadata | undefined) => {
    const raw = md?.get(wire.PROFILING_KEY)[0];
    if (raw !== undefined && opts.onProfile)
      opts.onProfile(ProfilingData.decode(typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw));
  };
  const unary =
    <Req, Resp>(method: UnaryMethod<Req, Resp>) =>
    (req: Req, opts?: CallOpts): Promise<Resp> =>
      new Promise((resolvePromise, reject) => {
        const call = method.call(client, req, metadata(opts), {}, (err, resp) => {
          if (err) {
            readProfile(err.metadata);
            reject(fromFailedCall(err, target));
          } else resolvePromise(resp);
        });
        call.on('status', (status: StatusObject) => {
          if (status.code === 0) readProfile(status.metadata);
        });
      });

  return {
    dump: unary(client.dump),
    restore: unary(client.restore),
    run: unary(client.run),
    manage: unary(client.manage),
    list: unary(client.list),
    kill: unary(client.kill),
    delete: unary(client.delete),
    listCheckpoints: unary(client.listCheckpoints),
    inspectCheckpoint: unary(client.inspectCheckpoint),
    deleteCheckpoint: unary(client.deleteCheckpoint),
    query: unary(client.query),
    healthCheck: unary(client.healthCheck),
    features: unary(client.features),
    reloadPlugins: unary(client.reloadPlugins),
    migrate: unary(client.migrate),
    migratePrepare: unary(client.migratePrepare),
    attach: () => new GrpcAttachCall(client.attach(metadata()), target),
    watchProgress: (requestId, onEvent) => {
      const call = client.progress({ requestId }, metadata());
      call.on('data', onEvent);
      call.on('error', () => {}); // progress is a nicety: a failed watch never fails the command
      return { cancel: () => call.cancel() };
    },
    close: () => client.close(),
  };
}

/** The Attach stream, with its errors turned into CedanaErrors. */
class GrpcAttachCall implements AttachCall {
  constructor(
    private readonly stream: ClientDuplexStream<AttachReq, AttachResp>,
    private readonly target: string,
  ) {}

  write(req: AttachReq): boolean {
    return this.stream.write(req);
  }

  end(): void {
    this.stream.end();
  }

  cancel(): void {
    this.stream.cancel();
  }

  on(event: 'data', listener: (resp: AttachResp) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'data' | 'error' | 'end', listener: (arg: never) => void): this {
    if (event === 'error') this.stream.on('error', (err: FailedCall) => (listener as (e: Error) => void)(fromFailedCall(err, this.target)));
    else this.stream.on(event, listener as (...args: unknown[]) => void);
    return this;
  }
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

/** Resolves when the channel is READY; rejects on the first connection failure or at the deadline. */
function waitReady(client: DaemonClient, target: string, timeoutMs: number): Promise<void> {
  const channel = client.getChannel();
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolvePromise, reject) => {
    const check = () => {
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return resolvePromise();
      if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN) {
        return reject(unreachable(target, 'connection refused'));
      }
      channel.watchConnectivityState(state, deadline, (err) => {
        if (err) reject(unreachable(target, `no answer within ${timeoutMs} ms`));
        else check();
      });
    };
    check();
  });
}
