/** The daemon API: messages, and the grpc-js service (imports @grpc/grpc-js). */

/** Channel credentials from the grpc-js copy DaemonClient was made with (a plugin dialling another daemon needs this one). */
export { credentials } from '@grpc/grpc-js';
export { DaemonClient, type DaemonServer, DaemonService } from './gen/cedana/daemon/v1/daemon.js';
export {
  CheckpointFile,
  CheckpointMemory,
  CheckpointProcess,
  CheckpointSocket,
  CheckpointSummary,
} from './gen/cedana/daemon/v1/inspect.js';
export {
  MigrateChunk,
  MigrateFile,
  MigratePrepareReq,
  MigratePrepareResp,
  MigrateReq,
  MigrateResp,
  MigrateTimes,
} from './gen/cedana/daemon/v1/migrate.js';
export { CheckpointStats, ProgressEvent, ProgressReq, StreamStats } from './gen/cedana/daemon/v1/stats.js';
export * from './gen/cedana/daemon/v1/types.js';
