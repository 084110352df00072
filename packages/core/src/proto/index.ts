/** The daemon API: messages, and the grpc-js service (imports @grpc/grpc-js). */

export { DaemonClient, type DaemonServer, DaemonService } from './gen/cedana/daemon/v1/daemon.js';
export * from './gen/cedana/daemon/v1/types.js';
