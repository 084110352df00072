/**
 * How errors, auth and profiling travel over gRPC, shared by the daemon (which
 * sets them) and clients (which read them).
 */
import type { GrpcStatusName } from './errors.js';

/** Metadata keys of a failed call's trailer. */
export const ERROR_CODE_KEY = 'cedana-error-code';
export const ERROR_HINT_KEY = 'cedana-error-hint';
/** JSON array of extra lines (e.g. the tail of CRIU's log). */
export const ERROR_DETAILS_KEY = 'cedana-error-details';
/** Request metadata asking for profiling (value "1"); the answer comes in PROFILING_KEY. */
export const PROFILING_REQUEST_KEY = 'cedana-profiling';
/** Trailer with an encoded ProfilingData message. */
export const PROFILING_KEY = 'profiling-bin';
/** Request metadata naming a Dump or Restore, so that a Progress call can watch it. */
export const REQUEST_ID_KEY = 'cedana-request-id';
/** Bearer token for TCP: `authorization: Bearer <token>`. */
export const AUTH_KEY = 'authorization';

/** gRPC status codes by name (a fixed part of the gRPC spec). */
export const GRPC_STATUS: Record<GrpcStatusName | 'OK' | 'CANCELLED' | 'UNKNOWN' | 'DEADLINE_EXCEEDED', number> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

/**
 * Text for a metadata value. gRPC carries printable ASCII only there (grpc-js throws on
 * anything else, and a throw at the edge would take the daemon down): every other
 * character travels as `\uXXXX`, and a backslash as `\\`. fromMetadataText undoes it.
 */
export function toMetadataText(text: string): string {
  return text.replace(/[^\x20-\x5b\x5d-\x7e]/g, (c) => (c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

export function fromMetadataText(text: string): string {
  return text.replace(/\\(\\|u([0-9a-fA-F]{4}))/g, (_, escaped: string, hex: string | undefined) =>
    hex === undefined ? escaped : String.fromCharCode(Number.parseInt(hex, 16)),
  );
}
