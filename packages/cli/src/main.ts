#!/usr/bin/env node
/** The `cedana` binary: wires the real process streams, gRPC client, plugin loader and daemon into runCli(). */
import { CedanaError, type Config } from '@cedana/core';
import { hideBin } from 'yargs/helpers';
import { runCli } from './cli.js';
import { loadInstalledPlugins } from './plugins/load.js';
import type { DaemonHandle } from './session.js';

/** Kept in a variable: the CLI reaches the daemon's code only when `daemon start` runs. */
const DAEMON: string = '@cedana/daemon';

const code = await runCli(hideBin(process.argv), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  connect: async (config, opts) => (await import('./client.js')).connect(config, opts),
  loadPlugins: loadInstalledPlugins,
  startDaemon: async (config: Config): Promise<DaemonHandle> => {
    let mod: { startDaemon(config: Config): Promise<DaemonHandle> };
    try {
      mod = (await import(DAEMON)) as typeof mod;
    } catch (err) {
      throw new CedanaError('CEDANA_ERR_INTERNAL', `cannot load the daemon (${DAEMON}): ${(err as Error).message}`, {
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
process.exit(code);
