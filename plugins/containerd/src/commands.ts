/**
 * The plugin's CLI subcommands: `cedana run|manage|dump|restore|query containerd`. Only the
 * containerd flags live here (the CLI adds the common ones); `details(argv)` runs in the CLI
 * and becomes `details.containerd` of the request. The socket path is made absolute here,
 * because the daemon does not share the CLI's working directory.
 */
import { resolve } from 'node:path';
import type { OptionSpec, PluginCommand } from '@cedana/plugin-sdk';
import type { ContainerdDetails } from './details.js';
import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE } from './socket.js';

const id = (demand: boolean, describe = 'container ID'): OptionSpec => ({ type: 'string', alias: 'i', describe, demandOption: demand });
/** `--address` is cedana's own global flag (the daemon's socket): containerd's socket has a name of its own. */
const address: OptionSpec = {
  type: 'string',
  describe: `containerd's socket (default: $CONTAINERD_ADDRESS of the daemon, else ${DEFAULT_ADDRESS})`,
};
const namespace: OptionSpec = { type: 'string', alias: 'n', describe: `containerd namespace (default ${DEFAULT_NAMESPACE})` };

/** `run`/`manage --rootfs`: every `dump job` of the job keeps the writable layer. */
const jobRootfs: OptionSpec = { type: 'boolean', describe: 'dumps of this job keep the container’s writable layer (as dump --rootfs)' };

/** The flags given, as details. */
export function detailsOf(argv: Record<string, unknown>): ContainerdDetails {
  const out: ContainerdDetails = {};
  const address = argv['containerd-address'];
  if (typeof address === 'string' && address !== '') out.address = resolve(address);
  if (typeof argv.namespace === 'string' && argv.namespace !== '') out.namespace = argv.namespace;
  if (typeof argv.id === 'string' && argv.id !== '') out.id = argv.id;
  if (typeof argv.image === 'string' && argv.image !== '') out.image = argv.image;
  if (typeof argv.snapshotter === 'string' && argv.snapshotter !== '') out.snapshotter = argv.snapshotter;
  if (argv.rootfs === true) out.rootfs = true;
  return out;
}

const details = (argv: Record<string, unknown>) => ({ ...detailsOf(argv) });

export const runCmd: PluginCommand = {
  describe: 'Run a containerd container from an image as a managed job (command after --, default: the image’s)',
  options: {
    image: { type: 'string', describe: 'image reference, as containerd names it', demandOption: true },
    id: id(true),
    snapshotter: {
      type: 'string',
      describe: 'snapshotter of the container’s rootfs (default overlayfs; the image is unpacked for it if need be)',
    },
    rootfs: jobRootfs,
    'containerd-address': address,
    namespace,
  },
  details,
};

export const manageCmd: PluginCommand = {
  describe: 'Manage a containerd container whose task is already running',
  options: { id: id(true), rootfs: jobRootfs, 'containerd-address': address, namespace },
  details,
};

export const dumpCmd: PluginCommand = {
  describe: 'Checkpoint a containerd container’s task',
  options: {
    id: id(true),
    rootfs: { type: 'boolean', describe: 'also keep the container’s writable layer (files it wrote)' },
    'containerd-address': address,
    namespace,
  },
  details,
};

export const restoreCmd: PluginCommand = {
  describe: 'Restore a containerd container from a checkpoint, as a new container',
  options: { id: id(false, "container ID to restore as (default: the dumped container's)"), 'containerd-address': address, namespace },
  details,
};

export const queryCmd: PluginCommand = {
  describe: 'List containerd’s containers (with task PID and status) and images',
  options: { 'containerd-address': address, namespace },
  details,
};
