/** The daemon API: messages, and the grpc-js service (imports @grpc/grpc-js). */
export * from './gen/cedana/daemon/v1/types.js';
export { DaemonClient, DaemonService, type DaemonServer } from './gen/cedana/daemon/v1/daemon.js';
