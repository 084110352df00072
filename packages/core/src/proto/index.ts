/** The daemon API: messages (./messages.ts), and the grpc-js service (imports @grpc/grpc-js). */

/** Channel credentials from the grpc-js copy DaemonClient was made with (a plugin dialling another daemon needs this one). */
export { credentials } from '@grpc/grpc-js';
export { DaemonClient, type DaemonServer, DaemonService } from './gen/cedana/daemon/v1/daemon.js';
export {
  MigrateChunk,
  MigrateFile,
  MigrateFrame,
  MigratePage,
  MigratePrepareReq,
  MigratePrepareResp,
  MigrateReq,
  MigrateResp,
  MigrateTimes,
} from './gen/cedana/daemon/v1/migrate.js';
export * from './messages.js';
export { channelOf } from './tls-channel.js';
