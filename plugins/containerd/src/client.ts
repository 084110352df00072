/**
 * containerd's own gRPC API on its unix socket: one channel, calls made from the ts-proto
 * service definitions (src/proto/gen, written by hand from containerd 1.6's api/ folder),
 * every call namespaced by the `containerd-namespace` header and, inside `withLease`, kept
 * from garbage collection by `containerd-lease`. gRPC failures become CedanaErrors here,
 * so the rest of the plugin never sees a raw status.
 */
import { stat } from 'node:fs/promises';
import { CedanaError, type ErrorCode, type PluginErrorCode } from '@cedana/plugin-sdk';
import { Client, connectivityState, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { LeasesService } from './proto/gen/containerd/services/leases.js';
import { DEFAULT_ADDRESS } from './socket.js';

/** A unary or server-streaming method of a ts-proto service definition. */
export interface MethodDef<Req, Res> {
  path: string;
  requestSerialize: (v: Req) => Buffer;
  responseDeserialize: (b: Buffer) => Res;
}

/** A client-and-server streaming method (Content.Write). */
export interface DuplexDef<Req, Res> extends MethodDef<Req, Res> {
  responseSerialize?: unknown;
}

/** How long a call may take before it is abandoned (a checkpoint of a big container takes long). */
const CALL_TIMEOUT_MS = 10 * 60_000;
const CONNECT_TIMEOUT_MS = 3000;

export class Containerd {
  private lease?: string;

  private constructor(
    readonly address: string,
    readonly namespace: string,
    private readonly client: Client,
  ) {}

  /**
   * Connects to containerd at `address` (a socket path); refuses at once when no socket is
   * there or containerd does not answer.
   *
   * @throws CedanaError CEDANA_ERR_CONTAINERD_UNREACHABLE
   */
  static async connect(address: string, namespace: string): Promise<Containerd> {
    const isSocket = await stat(address).then(
      (s) => s.isSocket(),
      () => false,
    );
    if (!isSocket) {
      throw new CedanaError('CEDANA_ERR_CONTAINERD_UNREACHABLE', `cannot reach containerd: there is no socket at ${address}`, {
        hint: `start containerd, or give the socket it listens on with --containerd-address (default ${DEFAULT_ADDRESS})`,
      });
    }
    const client = new Client(`unix://${address}`, credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    });
    await ready(client, Date.now() + CONNECT_TIMEOUT_MS).catch((err: Error) => {
      client.close();
      throw new CedanaError('CEDANA_ERR_CONTAINERD_UNREACHABLE', `cannot reach containerd at ${address}: ${err.message}`, {
        hint: 'check that containerd runs and listens on that socket (`ctr --address SOCKET version`)',
      });
    });
    return new Containerd(address, namespace, client);
  }

  close(): void {
    this.client.close();
  }

  /** The same connection in another namespace. */
  private metadata(): Metadata {
    const md = new Metadata();
    md.set('containerd-namespace', this.namespace);
    if (this.lease) md.set('containerd-lease', this.lease);
    return md;
  }

  /** One unary call; `what` names it in errors ("get container web"). */
  call<Req, Res>(
    def: MethodDef<Req, Res>,
    req: Req,
    what: string,
    signal?: AbortSignal,
    opts: { noDeadline?: boolean } = {},
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        req,
        this.metadata(),
        opts.noDeadline ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS },
        (err: ServiceError | null, res?: Res) => {
          signal?.removeEventListener('abort', cancel);
          if (err) reject(this.failure(err, what));
          else resolve(res as Res);
        },
      );
      const cancel = () => call.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  /** A server-streaming call (Content.Read); `onMessage` may return a promise to pause the stream until it settles. */
  stream<Req, Res>(def: MethodDef<Req, Res>, req: Req, what: string, onMessage: (m: Res) => undefined | Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const call = this.client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, req, this.metadata(), {
        deadline: Date.now() + CALL_TIMEOUT_MS,
      });
      const fail = (err: unknown) => {
        call.cancel();
        reject(err);
      };
      call.on('data', (m: Res) => {
        try {
          // A promise means "wait": the stream pauses until it settles (backpressure of a file being written).
          const wait = onMessage(m);
          if (wait) {
            call.pause();
            wait.then(() => call.resume(), fail);
          }
        } catch (err) {
          fail(err);
        }
      });
      call.on('error', (err: ServiceError) => reject(this.failure(err, what)));
      call.on('end', () => resolve());
    });
  }

  /** A bidirectional call: every request written in order, every answer collected. */
  duplex<Req, Res>(def: DuplexDef<Req, Res>, requests: AsyncIterable<Req>, what: string): Promise<Res[]> {
    return new Promise<Res[]>((resolve, reject) => {
      const call = this.client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, this.metadata(), {
        deadline: Date.now() + CALL_TIMEOUT_MS,
      });
      const answers: Res[] = [];
      call.on('data', (m: Res) => answers.push(m));
      call.on('error', (err: ServiceError) => reject(this.failure(err, what)));
      call.on('end', () => resolve(answers));
      void (async () => {
        try {
          for await (const r of requests) {
            if (!call.write(r)) await new Promise((r2) => call.once('drain', r2));
          }
          call.end();
        } catch (err) {
          call.cancel();
          reject(err);
        }
      })();
    });
  }

  /**
   * Runs `fn` with a lease: what containerd makes meanwhile (snapshots, blobs) is not
   * garbage-collected before it is referenced; the lease is deleted afterwards.
   */
  async withLease<T>(fn: () => Promise<T>): Promise<T> {
    const expire = new Date(Date.now() + 60 * 60_000).toISOString();
    const created = await this.call(
      LeasesService.create,
      {
        id: `cedana-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`,
        labels: { 'containerd.io/gc.expire': expire },
      },
      'create a lease',
    );
    const id = created.lease?.id ?? '';
    const before = this.lease;
    this.lease = id;
    try {
      return await fn();
    } finally {
      this.lease = before;
      await this.call(LeasesService.delete, { id, sync: false }, 'delete the lease').catch(() => {});
    }
  }

  /** A gRPC failure as a CedanaError; NOT_FOUND and ALREADY_EXISTS keep a code callers test. */
  private failure(err: ServiceError, what: string): CedanaError {
    const detail = err.details || err.message;
    let code: ErrorCode | PluginErrorCode = 'CEDANA_ERR_CONTAINERD_FAILED';
    if (err.code === status.UNAVAILABLE) code = 'CEDANA_ERR_CONTAINERD_UNREACHABLE';
    else if (err.code === status.NOT_FOUND) code = 'CEDANA_ERR_CONTAINER_NOT_FOUND';
    else if (err.code === status.ALREADY_EXISTS) code = 'CEDANA_ERR_CONTAINER_EXISTS';
    const e = new CedanaError(code, `could not ${what} (namespace ${this.namespace}): ${detail}`);
    (e as CedanaError & { grpcCode?: number }).grpcCode = err.code;
    return e;
  }
}

/**
 * Resolves once the channel is connected; rejects at the first failure to connect (a socket
 * nobody listens on is refused at once: no need to wait for grpc-js's retries) or at `deadline`.
 */
function ready(client: Client, deadline: number): Promise<void> {
  const channel = client.getChannel();
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return resolve();
      if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN) {
        return reject(new Error('the connection was refused'));
      }
      channel.watchConnectivityState(state, deadline, (err) => (err ? reject(new Error('no answer in time')) : check()));
    };
    check();
  });
}

/** The gRPC status of a failed call (NOT_FOUND: 5, ALREADY_EXISTS: 6), when it came from containerd. */
export function grpcCodeOf(err: unknown): number | undefined {
  return (err as { grpcCode?: number } | undefined)?.grpcCode;
}

export const isNotFound = (err: unknown) => grpcCodeOf(err) === status.NOT_FOUND;
