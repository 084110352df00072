/**
 * The plugin's CLI subcommands: `cedana run|manage|dump|restore|query runc`. Only the
 * runc flags live here (the CLI adds the common ones); `details(argv)` runs in the CLI
 * and becomes `details.runc` of the request. Paths are made absolute here, because the
 * daemon does not share the CLI's working directory.
 */
import { resolve } from 'node:path';
import type { OptionSpec, PluginCommand } from '@cedana/plugin-sdk';
import type { RuncDetails } from './details.js';

const id = (demand: boolean, describe = 'container ID'): OptionSpec => ({ type: 'string', alias: 'i', describe, demandOption: demand });
const root: OptionSpec = { type: 'string', describe: "runc root folder of the container state (default: runc's own, /run/runc)" };

/** The flags given, as details; relative paths resolved against the CLI's working directory. */
export function detailsOf(argv: Record<string, unknown>): RuncDetails {
  const out: RuncDetails = {};
  if (typeof argv.id === 'string' && argv.id !== '') out.id = argv.id;
  if (typeof argv.root === 'string' && argv.root !== '') out.root = resolve(argv.root);
  if (typeof argv.bundle === 'string' && argv.bundle !== '') out.bundle = resolve(argv.bundle);
  return out;
}

const details = (argv: Record<string, unknown>) => ({ ...detailsOf(argv) });

export const runCmd: PluginCommand = {
  describe: 'Run a runc container as a managed job',
  options: {
    bundle: { type: 'string', alias: 'b', describe: 'bundle folder (config.json and rootfs), or a tar of one', demandOption: true },
    id: id(true),
    root,
  },
  details,
};

export const manageCmd: PluginCommand = {
  describe: 'Manage a runc container that is already running',
  options: { id: id(true), root },
  details,
};

export const dumpCmd: PluginCommand = {
  describe: 'Checkpoint a runc container',
  options: { id: id(true), root },
  details,
};

export const restoreCmd: PluginCommand = {
  describe: 'Restore a runc container from a checkpoint',
  options: {
    bundle: {
      type: 'string',
      alias: 'b',
      describe: 'bundle folder, a tar of one, or a tar of a rootfs (`docker export`) (default: the bundle it was dumped from)',
    },
    id: id(false, "container ID to restore as (default: the dumped container's)"),
    root,
  },
  details,
};

export const queryCmd: PluginCommand = {
  describe: 'List the containers runc knows, with PID, status and bundle',
  options: { root },
  details,
};
