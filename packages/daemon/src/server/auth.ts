import { createHash, timingSafeEqual } from 'node:crypto';
import { CedanaError, type Config, hostPortOf, type Logger, type ServerTls, wire } from '@cedana/core';
import type { Metadata } from '@grpc/grpc-js';

/**
 * A daemon on TCP needs `auth_token`: without one every local user (and anyone who reaches
 * the port) could run and restore processes as root. `insecure` lets it start anyway, with a
 * warning on every start. Runs before the daemon opens anything.
 */
export function refuseOpenTcp(config: Config): void {
  if (config.protocol !== 'tcp' || config.auth_token || config.insecure) return;
  throw new CedanaError(
    'CEDANA_ERR_TCP_NO_TOKEN',
    `refusing to listen on TCP ${config.address} without auth_token: anyone who reaches the port could run processes as root`,
  );
}

/** The warning an insecure TCP daemon logs on every start. */
export function warnIfOpenTcp(config: Config, log: Logger): void {
  if (config.protocol !== 'tcp' || config.auth_token) return;
  log.warn(
    { address: config.address, insecure: true },
    'INSECURE: listening on TCP without auth_token (--insecure): whoever reaches this port acts as root; set auth_token',
  );
}

/**
 * The warning a plain TCP daemon on an address other than loopback logs on every start: its token,
 * and the images of a migration to it, cross the network in the clear.
 */
export function warnIfPlainTcp(config: Config, tls: ServerTls | undefined, log: Logger): void {
  if (config.protocol !== 'tcp' || tls) return;
  const { host } = hostPortOf(config.address);
  if (host === 'localhost' || host.startsWith('127.') || host === '::1') return;
  log.warn(
    { address: config.address, tls: false },
    'listening on TCP without TLS: the bearer token and what clients send (a migration: the whole checkpoint) cross the network in the clear; set tls.cert and tls.key (`daemon start --tls-cert --tls-key`)',
  );
}

/** On TCP with `auth_token` set, every call must carry `authorization: Bearer <token>`. */
export function checkAuth(metadata: Metadata, config: Config): void {
  if (config.protocol !== 'tcp' || !config.auth_token) return;
  const got = metadata.get(wire.AUTH_KEY)[0];
  if (typeof got !== 'string' || !tokenMatches(got, `Bearer ${config.auth_token}`)) {
    throw new CedanaError(
      'CEDANA_ERR_UNAUTHENTICATED',
      got ? "the bearer token does not match the daemon's auth_token" : 'this daemon requires a bearer token',
    );
  }
}

/**
 * Compares in constant time: both sides are hashed to 32 bytes first, so neither the
 * position of the first differing byte nor the length of the token shows in the timing.
 */
export function tokenMatches(got: string, want: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(got), digest(want));
}
