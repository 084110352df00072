/** What the `cedana` binary runs, from main.ts or from the startup snapshot (snapshot-main.ts): the real process streams, gRPC client, plugin loader and daemon, wired into runCli(). */
import { CedanaError, type Config } from '@cedana/core';
import { runCli } from './cli.js';
import { describedPlugins, describesOnly } from './plugins/described.js';
import { loadInstalledPlugins } from './plugins/load.js';
import type { DaemonHandle } from './session.js';

/** Runs the command line `args` (without node and the script) and returns its exit code. */
export function runMain(args: readonly string[]): Promise<number> {
  return runCli(args, {
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: making process.stdin costs a few ms, and only `attach` reads it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    connect: async (config, opts) => (await import('./client.js')).connect(config, opts),
    // Help, `features` and `plugin list` read what the last full load found while the plugins are unchanged.
    loadPlugins: describesOnly(args) ? (dir) => describedPlugins(dir, loadInstalledPlugins) : loadInstalledPlugins,
    startDaemon: async (config: Config): Promise<DaemonHandle> => {
      // Imported only here: every other command starts without the daemon's code.
      let mod: typeof import('@cedana/daemon');
      try {
        mod = await import('@cedana/daemon');
      } catch (err) {
        throw new CedanaError('CEDANA_ERR_INTERNAL', `cannot load the daemon (@cedana/daemon): ${(err as Error).message}`, {
          hint: 'reinstall cedana: its @cedana/daemon package is missing or broken',
          cause: err,
        });
      }
      return mod.startDaemon(config);
    },
    onSignal: (signal, listener) => {
      process.on(signal, listener);
      return () => process.off(signal, listener);
    },
  });
}
