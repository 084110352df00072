/**
 * Turns a failed gRPC call into a CedanaError. The daemon puts the error's code,
 * hint and detail lines in the trailer (wire.ts); a call that never reached it
 * (or a daemon of another build) only has a gRPC status, mapped here.
 */
import { CedanaError, ERRORS, type ErrorCode, wire } from '@cedana/core';

/** What grpc-js gives us for a failed call (ServiceError), without importing grpc-js. */
export interface FailedCall {
  code: number;
  details: string;
  message?: string;
  metadata?: { get(key: string): (string | Buffer)[] };
}

export function fromFailedCall(call: FailedCall, address: string): CedanaError {
  const first = (key: string) => {
    const v = call.metadata?.get(key)[0];
    return v === undefined ? undefined : wire.fromMetadataText(String(v));
  };
  const message = call.details || call.message || 'the call failed';
  const code = first(wire.ERROR_CODE_KEY);
  if (code !== undefined && code in ERRORS) {
    return new CedanaError(code as ErrorCode, message, {
      hint: first(wire.ERROR_HINT_KEY),
      details: parseDetails(first(wire.ERROR_DETAILS_KEY)),
    });
  }
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

function parseDetails(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.map(String) : [String(parsed)];
  } catch {
    return [raw];
  }
}
