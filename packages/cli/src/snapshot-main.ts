/**
 * The entry of the CLI's V8 startup snapshot (scripts/bundle-cli.mjs makes main.blob from it
 * with `node --build-snapshot`): the CLI's modules, yargs and core evaluated once at build
 * time, so a start deserializes them instead of compiling and running ~1 MB of code.
 * `node --snapshot-blob main.blob -- ARGS` then runs the command line as main.js would. The
 * client's node:http2 and grpc-js (for streaming calls; a snapshot cannot hold http2), the
 * daemon and the plugins are loaded at run time, as from main.js.
 */
import { startupSnapshot } from 'node:v8';
import { runMain } from './run-main.js';
// What main.js imports on demand for the commonest commands, evaluated here at build time (with
// the Node modules they import) so that a start finds it ready: the client (`ps` and every other
// call to the daemon) and `plugin list`.
import './client.js';
import './commands/plugin-list.js';

if (!startupSnapshot.isBuildingSnapshot())
  throw new Error('snapshot-main.js makes the startup snapshot (node --build-snapshot); run main.js');
startupSnapshot.setDeserializeMainFunction(() => {
  // No script name: node's own argv[0], then the command line after `--`.
  void runMain(process.argv.slice(1)).then((code) => process.exit(code));
});
