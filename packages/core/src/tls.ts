/**
 * TLS between a TCP daemon and its clients, built from config in this one place: what the daemon
 * serves (serverTlsOf: tls.cert, tls.key), what a client trusts and expects (clientTlsOf: tls.ca,
 * tls.server_name, tls.enabled) and the node:tls options of both, and the coded error of a
 * handshake that failed (tlsFailure). The grpc-js credentials made from a ClientTls are in
 * proto/tls-channel.ts. TLS is for TCP only: a unix socket is reached as it was.
 *
 * The CLI loads this file at startup, so node:tls is reached through getBuiltinModule when first
 * needed (no import of it here: the CLI's startup snapshot cannot hold it).
 */
import { readFileSync, statSync } from 'node:fs';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type { Config } from './config.js';
import { CedanaError } from './errors.js';

/** What a TCP daemon serves TLS with. */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
}

/** What a client of a TCP daemon checks its certificate against. */
export interface ClientTls {
  /** The CA certificate(s) of tls.ca; undefined: the system's CAs (node's bundle). */
  ca: Buffer | undefined;
  /** tls.ca as configured ('' for the system's CAs), for the errors to name. */
  caFile: string;
  /** The name the certificate must hold; '' for the host of the address dialed. */
  serverName: string;
}

/** Who dials, for the fix an error names: the CLI (its flags) or a source daemon dialing a migration target (its config). */
export type Dialer = 'cli' | 'migrate';

/** The daemon's certificate and key, or undefined for plain TCP; a missing, unreadable or public key file is refused. */
export function serverTlsOf(config: Config): ServerTls | undefined {
  if (config.protocol !== 'tcp') return undefined;
  const certFile = config['tls.cert'];
  const keyFile = config['tls.key'];
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile)
    throw new CedanaError('CEDANA_ERR_TLS_FILE', `tls.${certFile ? 'key' : 'cert'} is empty, but tls.${certFile ? 'cert' : 'key'} is set`, {
      hint: 'a daemon serves TLS with both: set tls.cert and tls.key (`daemon start --tls-cert CERT --tls-key KEY`), or neither for plain TCP',
    });
  const mode = statOf(keyFile, 'tls.key').mode & 0o777;
  if (mode & 0o077)
    throw new CedanaError(
      'CEDANA_ERR_TLS_FILE',
      `the private key ${keyFile} (tls.key) is readable by others: its mode is 0${mode.toString(8)}, expected 0600 or 0400`,
      { hint: `make it private with \`chmod 600 ${keyFile}\` (and keep it owned by root): whoever can read it can pose as this daemon` },
    );
  const tls = { cert: pemOf(certFile, 'tls.cert', 'CERTIFICATE'), key: pemOf(keyFile, 'tls.key', 'PRIVATE KEY') };
  try {
    process.getBuiltinModule('node:tls').createSecureContext(tls);
  } catch (err) {
    throw new CedanaError('CEDANA_ERR_TLS_FILE', `cannot serve TLS with ${certFile} and ${keyFile}: ${(err as Error).message}`, {
      hint: 'tls.key must be the private key of the first certificate of tls.cert: compare `openssl x509 -in CERT -noout -pubkey` with `openssl pkey -in KEY -pubout`',
    });
  }
  return tls;
}

/** What a client checks the daemon's certificate against, or undefined for plain TCP (tls.enabled off, no tls.ca). */
export function clientTlsOf(config: Config): ClientTls | undefined {
  const caFile = config['tls.ca'];
  if (!config['tls.enabled'] && !caFile) return undefined;
  return { ca: caFile ? pemOf(caFile, 'tls.ca', 'CERTIFICATE') : undefined, caFile, serverName: config['tls.server_name'] };
}

/** The host and port of `host:port` or `[v6]:port`. */
export function hostPortOf(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]*):(\d+)$/.exec(address);
  return { host: m?.[1] || 'localhost', port: Number(m?.[2] ?? 0) };
}

/**
 * node:tls options (for tls.connect and http2.connect) that verify the daemon at `address` against
 * `tls`. No SNI for an IP address (RFC 6066; node warns of it): the IP is then what is checked.
 */
export function tlsConnectOptions(tls: ClientTls, address: string): ConnectionOptions {
  const { host, port } = hostPortOf(address);
  const { isIP } = process.getBuiltinModule('node:net');
  const expected = tls.serverName || host;
  return {
    host,
    port,
    ALPNProtocols: ['h2'],
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(isIP(expected) ? {} : { servername: expected }),
    rejectUnauthorized: true,
    checkServerIdentity: (_host, cert) => process.getBuiltinModule('node:tls').checkServerIdentity(expected, cert),
  };
}

/** Node's codes of a certificate that does not chain to a trusted CA. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/** Node's codes of a TLS client that got something other than TLS back. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);

/** The coded error of a TLS connection to `address` that failed with `err`; undefined when `err` is no TLS failure. */
export function tlsFailure(err: NodeJS.ErrnoException, address: string, tls: ClientTls, dialer: Dialer): CedanaError | undefined {
  const who = dialer === 'cli' ? `the daemon at ${address}` : `the target daemon at ${address}`;
  const code = err.code ?? '';
  if (UNTRUSTED.has(code)) {
    const trusted = tls.caFile ? `the CA of ${tls.caFile} (tls.ca)` : "the system's CAs, as no tls.ca is set";
    return new CedanaError(
      'CEDANA_ERR_TLS_UNTRUSTED',
      `${who} sent a certificate this client does not trust (it trusts ${trusted}): ${err.message} (${code})`,
      {
        hint:
          dialer === 'cli'
            ? "pass the CA that signed the daemon's certificate: --tls-ca FILE (CEDANA_TLS_CA, or tls.ca in the config)"
            : "set tls.ca of this (source) daemon to the CA that signed the target's certificate (`daemon start --tls-ca FILE`, CEDANA_TLS_CA), and restart it; nothing was frozen",
      },
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return new CedanaError('CEDANA_ERR_TLS_HOSTNAME', `${who} sent a certificate for another name: ${err.message}`, {
      hint:
        dialer === 'cli'
          ? 'connect with a name or IP the certificate lists (--address NAME:PORT), or say which one to expect with --tls-server-name NAME (CEDANA_TLS_SERVER_NAME)'
          : "migrate --to a name or IP the target's certificate lists, or set tls.server_name of this (source) daemon; nothing was frozen",
    });
  if (NOT_TLS.has(code))
    return new CedanaError('CEDANA_ERR_TLS_MISMATCH', `${who} does not speak TLS (it answered a TLS handshake with plain bytes: ${code})`, {
      hint:
        dialer === 'cli'
          ? 'drop --tls and --tls-ca (tls.enabled, tls.ca) for this daemon, or start it with --tls-cert and --tls-key'
          : 'start the target daemon with --tls-cert and --tls-key, or unset tls.ca and tls.enabled of this (source) daemon; nothing was frozen',
    });
  return undefined;
}

/** The error of a plain client that reached a TLS daemon. */
export function plainToTls(address: string, dialer: Dialer): CedanaError {
  const who = dialer === 'cli' ? `the daemon at ${address}` : `the target daemon at ${address}`;
  return new CedanaError('CEDANA_ERR_TLS_MISMATCH', `${who} speaks TLS, and this client connected without it`, {
    hint:
      dialer === 'cli'
        ? "connect with --tls, or --tls-ca FILE for a daemon whose certificate the system's CAs do not vouch for (CEDANA_TLS_CA, tls.ca)"
        : 'set tls.ca (or tls.enabled) of this (source) daemon, so that it dials targets over TLS, and restart it; nothing was frozen',
  });
}

/** Completes a TLS handshake with `address` as `tls` says, then hangs up; rejects with tlsFailure's error, or the socket's. */
export function tlsHandshake(address: string, tls: ClientTls, dialer: Dialer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = process.getBuiltinModule('node:tls').connect(tlsConnectOptions(tls, address));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS handshake within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(tlsFailure(err, address, tls, dialer) ?? err);
    });
  });
}

/**
 * Whether `address` answers a TLS handshake: asked only after a plain connection failed, to say
 * why. The certificate is not checked here (it only tells TLS from not TLS); nothing is sent.
 */
export function speaksTls(address: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const { host, port } = hostPortOf(address);
    const socket = process.getBuiltinModule('node:tls').connect({ host, port, ALPNProtocols: ['h2'], rejectUnauthorized: false });
    const done = (yes: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(yes);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function statOf(file: string, key: string): { mode: number } {
  try {
    return statSync(file);
  } catch (err) {
    throw fileError(file, key, err as NodeJS.ErrnoException);
  }
}

/** The PEM file `key` names; refused when it cannot be read or holds no `-----BEGIN <label>`. */
function pemOf(file: string, key: string, label: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw fileError(file, key, err as NodeJS.ErrnoException);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(pem.toString('latin1')))
    throw new CedanaError(
      'CEDANA_ERR_TLS_FILE',
      `${file} (${key}) is not a PEM file holding a ${label}: no "-----BEGIN ...${label}-----" line`,
    );
  return pem;
}

function fileError(file: string, key: string, err: NodeJS.ErrnoException): CedanaError {
  const why = err.code === 'ENOENT' ? 'there is no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
  return new CedanaError('CEDANA_ERR_TLS_FILE', `cannot read ${file} (${key}): ${why}`);
}
