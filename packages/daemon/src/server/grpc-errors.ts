/** Errors at the edge: a CedanaError becomes a gRPC status with its code, hint and details in the trailer. */

import { type Logger, toCedanaError, wire } from '@cedana/core';
import { Metadata, type ServiceError } from '@grpc/grpc-js';

export function toServiceError(err: unknown, log: Logger): Partial<ServiceError> {
  const e = toCedanaError(err);
  if (e.code === 'CEDANA_ERR_INTERNAL') log.error({ err }, 'request failed with an unexpected error');
  else log.warn({ code: e.code, msg: e.message }, 'request failed');
  const metadata = new Metadata();
  metadata.set(wire.ERROR_CODE_KEY, e.code);
  metadata.set(wire.ERROR_HINT_KEY, wire.toMetadataText(e.hint));
  if (e.details.length > 0) metadata.set(wire.ERROR_DETAILS_KEY, wire.toMetadataText(JSON.stringify(e.details)));
  return { code: wire.GRPC_STATUS[e.status], details: e.message, metadata };
}
