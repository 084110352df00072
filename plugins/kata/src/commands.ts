/** `cedana dump kata` and `cedana restore kata`: the flags become `details.kata`. */
import type { OptionSpec, PluginCommand } from '@cedana/plugin-sdk';
import type { KataDetails } from './details.js';

const vm: OptionSpec = { type: 'string', describe: 'Kata VM (sandbox) ID', demandOption: true };
const guestAddress: OptionSpec = {
  type: 'string',
  describe:
    'address of the cedana daemon in the guest: vsock://CID:PORT (default: the VM map, $CEDANA_KATA_VMS or /etc/cedana/kata-vms.json)',
};
const share: OptionSpec = {
  type: 'string',
  describe: 'the folder shared with the guest, as HOST_PATH:GUEST_PATH, when the guest mounts it at another path',
};

export function detailsOf(argv: Record<string, unknown>): KataDetails {
  const out: KataDetails = {};
  for (const k of ['vm', 'jid', 'share'] as const) if (typeof argv[k] === 'string' && argv[k] !== '') out[k] = argv[k];
  const address = argv['guest-address'];
  if (typeof address === 'string' && address !== '') out.address = address;
  if (typeof argv.pid === 'number' && argv.pid > 0) out.pid = argv.pid;
  return out;
}

export const dumpCmd: PluginCommand = {
  describe: "Checkpoint a job in a Kata VM through the guest's cedana daemon",
  options: {
    vm,
    'guest-address': guestAddress,
    share,
    jid: { type: 'string', describe: "job of the guest's cedana daemon to dump" },
    pid: { type: 'number', describe: 'PID (in the guest) to dump, instead of --jid' },
  },
  details: (argv) => ({ ...detailsOf(argv) }),
};

export const restoreCmd: PluginCommand = {
  describe: "Restore a kata checkpoint in a Kata VM through the guest's cedana daemon",
  options: { vm, 'guest-address': guestAddress, share },
  details: (argv) => ({ ...detailsOf(argv) }),
};
