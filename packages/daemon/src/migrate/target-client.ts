/**
 * The source daemon's client of a target daemon: a unix socket path (tests, one machine) or
 * host:port over TCP with the target's token (over TLS when this daemon's config has tls.ca or
 * tls.enabled). Unary calls become promises; the receive call
 * is a client stream the sender writes the checkpoint into.
 */
import { CedanaError, type ClientTls, isCedanaError, plainToTls, speaksTls, tlsHandshake, wire } from '@cedana/core';
import {
  channelOf,
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

/**
 * Dials the target and waits until it accepts the connection. Over TCP with `tls` (clientTlsOf of
 * this daemon's config), a TLS handshake comes first, so that an untrusted certificate, a wrong
 * name or a target without TLS is refused with its own code (grpc-js would only say "failed to
 * connect"); a plain dial that fails asks whether the target speaks TLS, to say so.
 */
export async function dialTarget(address: string, token: string, tls?: ClientTls): Promise<TargetDaemon> {
  const target = grpcTarget(address);
  const tcp = !target.startsWith('unix://');
  if (tcp && tls)
    await tlsHandshake(address, tls, 'migrate', CONNECT_TIMEOUT_MS).catch((err) =>
      Promise.reject(isCedanaError(err) ? err : refused(address, err)),
    );
  const channel = channelOf(tcp ? tls : undefined, address);
  const client = new DaemonClient(target, channel.credentials, {
    ...channel.options,
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
    client.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (err) => (err ? reject(refused(address, err)) : resolve())),
  ).catch(async (err) => {
    client.close();
    if (tcp && !tls && (await speaksTls(address, CONNECT_TIMEOUT_MS))) throw plainToTls(address, 'migrate');
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

function refused(address: string, err: Error): CedanaError {
  return new CedanaError('CEDANA_ERR_MIGRATE_REFUSED', `cannot reach the target daemon at ${address}: ${err.message}`, {
    hint: 'check the address (host:port of a TCP daemon, or its socket path) and that it runs; nothing was frozen',
  });
}

/** The target's error with its own code and message when it sent them (cedana-error-code trailer). */
export function remoteError(err: ServiceError): Error & { remoteCode?: string } {
  const code = err.metadata?.get(wire.ERROR_CODE_KEY)[0];
  const e = new Error(err.details || err.message) as Error & { remoteCode?: string };
  if (typeof code === 'string') e.remoteCode = code;
  return e;
}
