/**
 * The data connection of a migration: a plain socket between the two daemons for the bulk bytes
 * (a pre-copy's files, a post-copy's page traffic), with no gRPC framing or HTTP/2 window on it.
 *
 * The target opens it in MigratePrepare (a TCP port on the host its gRPC listens on, or a unix
 * socket beside the incoming folder), with TLS when its gRPC serves TLS, and announces it with a
 * one-time secret in the reply. The source connects and first proves the secret, naming the
 * channel it opens (files or pages); the target answers one byte, and only then does either side
 * send data. A wrong secret, a channel already taken or a silence past HANDSHAKE_MS is dropped
 * without an answer. The listener closes once the migration has every channel it needs, or when
 * the migration ends: nothing listens outside one.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import {
  CedanaError,
  type ClientTls,
  type Config,
  clientTlsOf,
  hostPortOf,
  type Logger,
  serverTlsOf,
  tlsConnectOptions,
} from '@cedana/core';

/** What a data connection carries: the checkpoint's files (pre-copy) or CRIU's page traffic (post-copy). */
export type Channel = 'files' | 'pages';
const CHANNEL_BYTE: Record<Channel, number> = { files: 0x46, pages: 0x50 };
const SECRET_BYTES = 32;
const ACCEPTED = 0x4b;
/** How long a connection may take to prove the secret (target) or to be accepted (source). */
const HANDSHAKE_MS = 5_000;

/** The target's side: listens for one migration's channels. */
export class DataListener {
  private readonly channels = new Map<Channel, { resolve: (s: Socket) => void; promise: Promise<Socket> }>();
  /** The channels not opened yet: each opens once. */
  private readonly waiting = new Set<Channel>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly secret: Buffer,
    /** Announced to the source: a port (TCP) or a socket path (unix). */
    readonly address: string,
    private readonly socketPath: string | undefined,
    channels: Channel[],
  ) {
    for (const c of channels) {
      let resolve!: (s: Socket) => void;
      const promise = new Promise<Socket>((r) => {
        resolve = r;
      });
      this.channels.set(c, { resolve, promise });
      this.waiting.add(c);
    }
  }

  /** Listens beside the daemon's own address: its host (TCP, a free port; TLS when it serves TLS), or `dir`.sock (unix). */
  static async open(config: Config, dir: string, channels: Channel[]): Promise<DataListener> {
    const tls = serverTlsOf(config);
    const server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }) : createServer();
    const tcp = config.protocol === 'tcp';
    const socketPath = tcp ? undefined : `${dir}.sock`;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (socketPath) server.listen(socketPath, resolve);
      // The host the gRPC listens on; ":PORT" (every interface) gives every interface here too.
      else if (config.address.startsWith(':')) server.listen(0, resolve);
      else server.listen(0, hostPortOf(config.address).host, resolve);
    });
    const addr = server.address();
    const address = socketPath ?? String(typeof addr === 'object' && addr ? addr.port : '');
    const l = new DataListener(server, randomBytes(SECRET_BYTES), address, socketPath, channels);
    server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => l.handshake(s));
    server.on('tlsClientError', () => {}); // a client that failed its handshake is dropped by node
    return l;
  }

  get secretHex(): string {
    return this.secret.toString('hex');
  }

  /** The channel's socket once the source opened it. */
  channel(c: Channel): Promise<Socket> {
    const w = this.channels.get(c);
    if (!w) return Promise.reject(new Error(`this migration has no ${c} channel`));
    return w.promise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    if (this.socketPath) await rm(this.socketPath, { force: true });
  }

  private handshake(s: Socket): void {
    s.setNoDelay(true);
    const timer = setTimeout(() => s.destroy(), HANDSHAKE_MS).unref();
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < SECRET_BYTES + 1) return;
      s.off('data', onData);
      s.pause();
      clearTimeout(timer);
      const proof = got.subarray(0, SECRET_BYTES);
      const c = (Object.keys(CHANNEL_BYTE) as Channel[]).find((k) => CHANNEL_BYTE[k] === got[SECRET_BYTES]);
      const w = c && this.waiting.has(c) ? this.channels.get(c) : undefined;
      if (!timingSafeEqual(proof, this.secret) || !c || !w) return void s.destroy();
      this.waiting.delete(c);
      if (got.length > SECRET_BYTES + 1) s.unshift(got.subarray(SECRET_BYTES + 1));
      s.write(Buffer.of(ACCEPTED));
      w.resolve(s);
      if (this.waiting.size === 0) void this.close(); // every channel came: nothing more to accept
    };
    s.on('data', onData);
    s.on('error', () => {}); // the channel's user sees the end; a failed handshake only drops it
  }
}

/**
 * The source's side: connects to the target's data address (over TLS when `tls`, as the gRPC
 * call), proves the secret and waits until the target accepts. `target` is the address the
 * source dialed: its host, with the announced port, for a TCP target.
 */
export async function dialData(target: string, data: string, secret: string, c: Channel, tls?: ClientTls): Promise<Socket> {
  const unix = data.startsWith('/');
  const address = unix ? data : `${hostPortOf(target).host}:${data}`;
  const s: Socket = unix
    ? createConnection(data)
    : tls
      ? tlsConnect({ ...tlsConnectOptions(tls, address), ALPNProtocols: undefined })
      : createConnection(hostPortOf(address).port, hostPortOf(address).host);
  s.setNoDelay(true);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer in ${HANDSHAKE_MS} ms`)), HANDSHAKE_MS);
      s.once(tls && !unix ? 'secureConnect' : 'connect', () => {
        s.write(Buffer.concat([Buffer.from(secret, 'hex'), Buffer.of(CHANNEL_BYTE[c])]));
      });
      s.once('data', (b: Buffer) => {
        clearTimeout(timer);
        s.pause();
        if (b[0] !== ACCEPTED) return reject(new Error('the target did not accept the data connection'));
        if (b.length > 1) s.unshift(b.subarray(1));
        resolve();
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      s.once('close', () => {
        clearTimeout(timer);
        reject(new Error('the target closed the data connection before accepting it'));
      });
    });
  } catch (err) {
    s.destroy();
    throw new CedanaError('CEDANA_ERR_MIGRATE_REFUSED', `cannot open the data connection to ${address}: ${(err as Error).message}`);
  }
  return s;
}

/**
 * The channel `c` of the target's data connection, or, when it has none or it cannot be reached
 * (a firewall between the hosts that lets only the daemon's port through), no socket and a
 * warning for the user: the bytes then go over gRPC, slower but whole. Opened before anything freezes.
 */
export async function openChannel(
  to: string,
  prep: { dataAddress: string; dataSecret: string },
  c: Channel,
  config: Config,
  log: Logger,
): Promise<{ socket?: Socket; warning?: string }> {
  if (!config['migrate.data_connection']) return {}; // asked for: no warning
  const tls = clientTlsOf(config);
  if (!prep.dataAddress) return { warning: `the target ${to} has no data connection: the ${c} went over gRPC (slower)` };
  return dialData(to, prep.dataAddress, prep.dataSecret, c, tls).then(
    (socket) => ({ socket }),
    (err: Error) => {
      log.warn({ to, err: err.message }, `the ${c} channel of the data connection did not open: the bytes go over gRPC`);
      return { warning: `${err.message}: the ${c} went over gRPC (slower)` };
    },
  );
}
