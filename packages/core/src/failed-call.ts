/**
 * A failed gRPC call read back into a CedanaError: the daemon puts the error's code, hint
 * and detail lines in the trailer (wire.ts). Clients of a cedana daemon (the CLI, the kata
 * plugin calling the daemon in a guest) read it here.
 */
import { CedanaError, ERROR_CODE_PATTERN, type GrpcStatusName, type PluginErrorCode } from './errors.js';
import { ERROR_CODE_KEY, ERROR_DETAILS_KEY, ERROR_HINT_KEY, fromMetadataText, GRPC_STATUS } from './wire.js';

/** What grpc-js gives for a failed call (ServiceError), without importing grpc-js. */
export interface FailedCall {
  code: number;
  details: string;
  message?: string;
  metadata?: { get(key: string): (string | Buffer)[] };
}

/**
 * The CedanaError whose code, hint and details the trailer carries, with `message`; a
 * plugin's code (which this side need not know) keeps the call's gRPC status. Undefined when
 * the trailer names no code (a call that never reached a daemon).
 */
export function errorFromTrailer(call: FailedCall, message: string): CedanaError | undefined {
  const code = trailerValue(call, ERROR_CODE_KEY);
  if (code === undefined || !ERROR_CODE_PATTERN.test(code)) return undefined;
  const status = Object.entries(GRPC_STATUS).find(([, n]) => n === call.code)?.[0] as GrpcStatusName | undefined;
  return new CedanaError(code as PluginErrorCode, message, {
    hint: trailerValue(call, ERROR_HINT_KEY),
    details: parseDetails(trailerValue(call, ERROR_DETAILS_KEY)),
    ...(status === undefined ? {} : { status }),
  });
}

function trailerValue(call: FailedCall, key: string): string | undefined {
  const v = call.metadata?.get(key)[0];
  return v === undefined ? undefined : fromMetadataText(String(v));
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
