/**
 * The daemon API's messages alone (`@cedana/core/messages`): what plugins and the SDK's
 * types need, and the CLI's gRPC client (which serializes them itself), without the grpc-js
 * service (which `@cedana/core/proto` adds).
 */
export {
  CheckpointFile,
  CheckpointMemory,
  CheckpointProcess,
  CheckpointSocket,
  CheckpointSummary,
} from './gen/cedana/daemon/v1/inspect.js';
export { MigratePrepareReq, MigratePrepareResp, MigrateReq, MigrateResp } from './gen/cedana/daemon/v1/migrate.js';
export { CheckpointStats, ProgressEvent, ProgressReq, StreamStats } from './gen/cedana/daemon/v1/stats.js';
export * from './gen/cedana/daemon/v1/types.js';
