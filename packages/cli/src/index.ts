/** @cedana/cli: the `cedana` binary is dist/bundle/main.js (dist/main.js bundled); this entry is for tests and tools that drive it in-process. */
export { runCli } from './cli.js';
export { connect } from './client.js';
export type { AttachCall, ConnectOptions, DaemonApi } from './daemon-api.js';
export { EXIT, exitCodeFor, UsageError } from './exit-codes.js';
export { type CellState, cellState, featureMatrix, type MatrixError, matrixErrors } from './features/matrix.js';
export type { CliDeps, DaemonHandle, InStream, OutStream } from './session.js';
