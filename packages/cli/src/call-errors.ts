/**
 * Turns a failed gRPC call into a CedanaError. The daemon puts the error's code,
 * hint and detail lines in the trailer (wire.ts); a call that never reached it
 * (or a daemon of another build) only has a gRPC status, mapped here.
 */
import { CedanaError, errorFromTrailer, type FailedCall, wire } from '@cedana/core';

export type { FailedCall };

export function fromFailedCall(call: FailedCall, address: string): CedanaError {
  const message = call.details || call.message || 'the call failed';
  const fromDaemon = errorFromTrailer(call, message);
  if (fromDaemon) return fromDaemon;
  switch (call.code) {
    case wire.GRPC_STATUS.UNAVAILABLE:
      return unreachable(address, message);
    case wire.GRPC_STATUS.UNAUTHENTICATED:
      return new CedanaError('CEDANA_ERR_UNAUTHENTICATED', `the daemon at ${address} refused the call: ${message}`);
    case wire.GRPC_STATUS.UNIMPLEMENTED:
      return new CedanaError('CEDANA_ERR_INTERNAL', `the daemon at ${address} does not implement this call: ${message}`, {
        hint: 'the daemon is older than this CLI: upgrade it, or use a matching CLI',
      });
    case wire.GRPC_STATUS.DEADLINE_EXCEEDED:
      return new CedanaError('CEDANA_ERR_INTERNAL', `the daemon at ${address} did not answer in time: ${message}`, {
        hint: 'the daemon may be overloaded or stuck: check its log',
      });
    default:
      return new CedanaError('CEDANA_ERR_INTERNAL', message);
  }
}

export function unreachable(address: string, reason: string, hint?: string): CedanaError {
  return new CedanaError(
    'CEDANA_ERR_DAEMON_UNREACHABLE',
    `cannot reach the daemon at ${address}: ${reason}`,
    hint === undefined ? {} : { hint },
  );
}
