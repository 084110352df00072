/**
 * The entry of the CLI's V8 startup snapshot (scripts/bundle-cli.mjs makes main.blob from it
 * with `node --build-snapshot`): the CLI's modules, yargs and core evaluated once at build
 * time, so a start deserializes them instead of compiling and running ~1 MB of code.
 * `node --snapshot-blob main.blob -- ARGS` then runs the command line as main.js would. The
 * gRPC client (grpc-js needs http2, which a snapshot cannot hold), the daemon and the plugins
 * are loaded at run time, as from main.js.
 */
import { startupSnapshot } from 'node:v8';
import { runMain } from './run-main.js';

if (!startupSnapshot.isBuildingSnapshot())
  throw new Error('snapshot-main.js makes the startup snapshot (node --build-snapshot); run main.js');
startupSnapshot.setDeserializeMainFunction(() => {
  // No script name: node's own argv[0], then the command line after `--`.
  void runMain(process.argv.slice(1)).then((code) => process.exit(code));
});
