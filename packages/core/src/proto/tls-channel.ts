/** grpc-js channel credentials of a client of a TCP daemon: plain, or TLS as clientTlsOf (../tls.ts) built it from config. */
import { checkServerIdentity } from 'node:tls';
import { type ChannelCredentials, type ChannelOptions, credentials } from '@grpc/grpc-js';
import { type ClientTls, hostPortOf } from '../tls.js';

/** SNI grpc-js sends for an IP address instead of the IP (RFC 6066 has no IPs there, and node warns of one). */
const NO_NAME = 'cedana-daemon.invalid';

/**
 * Credentials and channel options for a grpc-js client of `address` (host:port): the daemon's
 * certificate is checked against `tls.ca` (the system's CAs without it) and must hold the host of
 * `address`, or `tls.serverName`. `undefined` tls: plain TCP.
 */
export function channelOf(tls: ClientTls | undefined, address: string): { credentials: ChannelCredentials; options: ChannelOptions } {
  if (!tls) return { credentials: credentials.createInsecure(), options: {} };
  const expected = tls.serverName || hostPortOf(address).host;
  const { isIP } = process.getBuiltinModule('node:net');
  return {
    // grpc-js checks the name it sends as SNI unless checkServerIdentity says otherwise: here it is always `expected`.
    credentials: credentials.createSsl(tls.ca ?? null, null, null, {
      checkServerIdentity: (_host, cert) => checkServerIdentity(expected, cert),
    }),
    options: { 'grpc.ssl_target_name_override': isIP(expected) ? NO_NAME : expected },
  };
}
