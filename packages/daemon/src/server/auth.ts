import { CedanaError, type Config, wire } from '@cedana/core';
import type { Metadata } from '@grpc/grpc-js';

/** On TCP with `auth_token` set, every call must carry `authorization: Bearer <token>`. */
export function checkAuth(metadata: Metadata, config: Config): void {
  if (config.protocol !== 'tcp' || !config.auth_token) return;
  const got = metadata.get(wire.AUTH_KEY)[0];
  if (got !== `Bearer ${config.auth_token}`) {
    throw new CedanaError(
      'CEDANA_ERR_UNAUTHENTICATED',
      got ? "the bearer token does not match the daemon's auth_token" : 'this daemon requires a bearer token',
    );
  }
}
