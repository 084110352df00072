/**
 * The source daemon's client of a target daemon: a unix socket path (tests, one machine) or
 * host:port over TCP with the target's token. Unary calls become promises; the receive call
 * is a client stream the sender writes the checkpoint into.
 */
import { CedanaError, wire } from '@cedana/core';
import {
  credentials,
  DaemonClient,
  type MigrateChunk,
  type MigratePage,
  type MigratePrepareReq,
  type MigratePrepareResp,
  type RestoreResp,
} from '@cedana/core/proto';
import { type ClientDuplexStream, type ClientWritableStream, Metadata, type ServiceError } from '@grpc/grpc-js';

/** How long the target may take to accept the connection: it is asked before anything freezes. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface TargetDaemon {
  readonly address: string;
  prepare(req: MigratePrepareReq): Promise<MigratePrepareResp>;
  /** Opens the receive stream; `done` settles with the target's answer (the job runs there) or its failure. */
  receive(): { stream: ClientWritableStream<MigrateChunk>; done: Promise<RestoreResp> };
  /** Post-copy: the call CRIU's page traffic is relayed over (page-relay.ts). */
  pages(): ClientDuplexStream<MigratePage, MigratePage>;
  close(): void;
}

/** `/path` or `unix:///path` is a unix socket; anything else is host:port. */
export function grpcTarget(address: string): string {
  if (address.startsWith('unix://')) return address;
  if (address.startsWith('/')) return `unix://${address}`;
  return address;
}

export async function dialTarget(address: string, token: string): Promise<TargetDaemon> {
  const target = grpcTarget(address);
  const client = new DaemonClient(target, credentials.createInsecure(), {
    'grpc.enable_http_proxy': 0,
    'grpc.max_send_message_length': 64 << 20,
    // A target host that vanishes (no FIN, no RST) is noticed within ~15 s, not at TCP's timeout.
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  const md = () => {
    const m = new Metadata();
    if (token) m.set(wire.AUTH_KEY, `Bearer ${token}`);
    return m;
  };
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (err) =>
      err
        ? reject(
            new CedanaError('CEDANA_ERR_MIGRATE_REFUSED', `cannot reach the target daemon at ${address}: ${err.message}`, {
              hint: 'check the address (host:port of a TCP daemon, or its socket path) and that it runs; nothing was frozen',
            }),
          )
        : resolve(),
    ),
  ).catch((err) => {
    client.close();
    throw err;
  });
  return {
    address,
    prepare: (req) =>
      new Promise((resolve, reject) => client.migratePrepare(req, md(), (err, resp) => (err ? reject(remoteError(err)) : resolve(resp)))),
    receive() {
      let stream!: ClientWritableStream<MigrateChunk>;
      const done = new Promise<RestoreResp>((resolve, reject) => {
        stream = client.migrateReceive(md(), (err, resp) => (err ? reject(remoteError(err)) : resolve(resp)));
      });
      return { stream, done };
    },
    pages: () => client.migratePages(md()),
    close: () => client.close(),
  };
}

/** The target's error with its own code and message when it sent them (cedana-error-code trailer). */
export function remoteError(err: ServiceError): Error & { remoteCode?: string } {
  const code = err.metadata?.get(wire.ERROR_CODE_KEY)[0];
  const e = new Error(err.details || err.message) as Error & { remoteCode?: string };
  if (typeof code === 'string') e.remoteCode = code;
  return e;
}
