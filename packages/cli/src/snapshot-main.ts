/**
 * The entry of the CLI's V8 startup snapshot (scripts/bundle-cli.mjs makes main.blob from it
 * with `node --build-snapshot`): the CLI's modules, yargs and core evaluated once at build
 * time, so a start deserializes them instead of compiling and running ~1 MB of code.
 * `node --snapshot-blob main.blob -- ARGS` then runs the command line as main.js would. The
 * client's node:http2 and grpc-js (for streaming calls; a snapshot cannot hold http2), the
 * daemon and the plugins are loaded at run time, as from main.js.
 */
import { startupSnapshot } from 'node:v8';
import { runCli } from './cli.js';
import { runMain } from './run-main.js';
// What main.js imports on demand for the commonest commands, evaluated here at build time (with
// the Node modules they import) so that a start finds it ready: the client (`ps` and every other
// call to the daemon) and `plugin list`.
import './client.js';
import './commands/plugin-list.js';
import { unreachable } from './call-errors.js';

if (!startupSnapshot.isBuildingSnapshot())
  throw new Error('snapshot-main.js makes the startup snapshot (node --build-snapshot); run main.js');

/**
 * The commonest command lines, run once while the snapshot is built, against streams that keep
 * nothing, no plugins and no daemon: V8 compiles the functions they call, and the snapshot keeps
 * what it compiled. Without it, a start compiles each of them on its first call (~15 ms of the
 * ~25 ms that `cedana --version` took beyond deserializing). Each run makes its own Session and
 * yargs instance: nothing of them is left for a real run.
 */
const WARM_UP = [['--version'], ['--help'], ['dump', '--help'], ['features'], ['plugin', 'list'], ['ps', '--json'], ['nosuch']];

async function warmUp(): Promise<void> {
  const nowhere = { write: () => true };
  const { log, error } = console; // yargs prints help and its errors there
  console.log = console.error = () => {};
  try {
    for (const args of WARM_UP) {
      await runCli(args, {
        stdout: nowhere,
        stderr: nowhere,
        stdin: { on: () => {}, off: () => {}, pause: () => {} }, // process.stdin would be a handle in the snapshot
        env: {},
        connect: async () => {
          throw unreachable('unix:///dev/null/none.sock', 'warming up');
        },
        loadPlugins: async () => [],
        startDaemon: async () => {
          throw new Error('warming up');
        },
        onSignal: () => () => {},
      });
    }
  } finally {
    console.log = log;
    console.error = error;
  }
}

void warmUp().then(() =>
  startupSnapshot.setDeserializeMainFunction(() => {
    // No script name: node's own argv[0], then the command line after `--`.
    void runMain(process.argv.slice(1)).then((code) => process.exit(code));
  }),
);
