/** The error codes of the kata plugin only (definePlugin's `errors`); rows in docs/errors.md, kata section. */
import type { ErrorSpec } from '@cedana/plugin-sdk';

export const KATA_ERRORS = {
  CEDANA_ERR_KATA_VM_NOT_FOUND: {
    status: 'NOT_FOUND',
    hint: "give the guest daemon's address with --guest-address vsock://CID:PORT, or add the VM to the kata VM map (CEDANA_KATA_VMS, default /etc/cedana/kata-vms.json)",
  },
  CEDANA_ERR_KATA_GUEST_UNREACHABLE: {
    status: 'UNAVAILABLE',
    hint: 'check that the VM runs and that cedana-daemon listens on the vsock port inside the guest (docs/kata.md)',
  },
  CEDANA_ERR_KATA_GUEST_TOO_OLD: {
    status: 'FAILED_PRECONDITION',
    hint: 'put a newer cedana into the guest image (docs/kata.md) and start the VM again',
  },
} as const satisfies Record<`CEDANA_ERR_KATA_${string}`, ErrorSpec>;
